/*
 * health/health_api — GET /healthz and GET /readyz, for load balancers, orchestrators and
 * monitors. Not under /wx/, no token, never the API envelope: a status code and a small JSON
 * body (Content-Type application/json, Cache-Control no-store).
 *
 * GET /healthz — alive: the loop that took the connection answers, at once, from the handler
 *   itself (no database, no WeChat, no allocation beyond the request's pool):
 *     200 {"status":"ok"}
 *   A loop that is stuck answers nothing: the prober's own timeout says so.
 *
 * GET /readyz — ready to serve logins and the API:
 *     200 {"status":"ready","checks":{"database":"ok","migrations":"ok","wechat":"ok"}}
 *     503 {"status":"not ready","checks":{"database":"no answer within 1000 ms",
 *          "migrations":"unknown","wechat":"ok"},"failed":["database","migrations"]}
 *   Each check is "ok" or a short reason; "failed" lists the checks that are not "ok".
 *   database    one job on the database pool reads schema_version. The loop never waits for
 *               it: a timer of HEALTH_READY_TIMEOUT_MS on the loop answers 503 when the job is
 *               late ("no answer within 1000 ms"; the job is freed when it comes back), and a
 *               failed read answers "error" (the database's own text is logged at WARN, never
 *               put in the body: it may name hosts).
 *   migrations  the database's schema_version is at least the newest this binary knows
 *               ("pending: database at N, this binary needs M"; a newer database, left by a
 *               newer instance in a rolling upgrade, is ready); "unknown" when the database
 *               check failed.
 *   wechat      the access_token manager holds a token that has not expired, or gets one
 *               within the same timeout (wx_probe_token; concurrent probes share the manager's
 *               one fetch). A failed probe is remembered for HEALTH_WX_FAIL_MEMORY_MS (1 s):
 *               checks in that second answer its reason without asking WeChat again, so a
 *               flood of /readyz cannot become a flood of token fetches.
 *               Reasons: "no access_token: errcode N", "... timeout", "... unreachable",
 *               "... bad response", "no answer within 1000 ms".
 * A hung database would collect one job per probe: once HEALTH_DB_JOBS_MAX readyz database jobs
 * of this process are late (their request timed out) and not back, the check answers "busy:
 * earlier checks still waiting" without queueing another, until one comes back.
 */
#ifndef MEETOA_HEALTH_HEALTH_API_H
#define MEETOA_HEALTH_HEALTH_API_H

#include "app/module.h"

#define HEALTH_READY_TIMEOUT_MS  1000
#define HEALTH_WX_FAIL_MEMORY_MS 1000
#define HEALTH_DB_JOBS_MAX       4

/* The health module: GET /healthz and GET /readyz. */
extern const app_module_t health_module;

#endif
