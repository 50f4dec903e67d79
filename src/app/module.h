/*
 * app/module — how a concern plugs into the server: one constant app_module_t per concern
 * (auth, storage, org, meeting), listed once in app.c's module table.
 *
 * A module declares its routes (http/server.h's http_route_t: method, path, handler) and,
 * when it has any, its services: start() runs at app_start() after the shared services
 * (database pool, WeChat client, session cache) are up, in the table's order; stop() runs
 * at app_stop() in the reverse order, after HTTP stopped, and release() after the database
 * pool and the WeChat client stopped (nothing runs then that could still read what it frees:
 * caches the workers use go there, not in stop()). A module that needs a route's
 * body limit from the configuration (uploads) gives body_limit(). Adding a module is adding
 * its file and one line in the table: app_t does not grow by hand.
 *
 * Ownership: the module and its routes are constant data with static storage. State that a
 * module's start() creates lives in the module's own file (one app per process) or behind a
 * field the module owns in app_t, and is freed by its stop() or release().
 */
#ifndef MEETOA_APP_MODULE_H
#define MEETOA_APP_MODULE_H

#include <stddef.h>

#include "config/config.h"
#include "http/server.h"

struct app;

typedef struct app_module {
    const char *name; /* "auth", "org", ... (logs) */
    const http_route_t *routes;
    size_t nroutes;
    /* The body limit of one of routes from the config; 0 = the route's own max_body_bytes. NULL = none. */
    size_t (*body_limit)(const config_t *config, const http_route_t *route);
    /* Starts the module's services; -1 and one line in err on failure. NULL = nothing to start. */
    int (*start)(struct app *app, char *err, size_t err_size);
    /* Stops them (only called when start succeeded). NULL = nothing to stop. */
    void (*stop)(struct app *app);
    /* Frees what database jobs may still read (a cache), once the pool has stopped; only
     * called when start succeeded (or there is none). NULL = nothing to free. */
    void (*release)(struct app *app);
} app_module_t;

/* For a module's initializer: .routes and .nroutes of a route table. */
#define APP_MODULE_ROUTES_FIELDS(table) .routes = (table), .nroutes = sizeof(table) / sizeof((table)[0])

/* The modules of the server, in start order (app.c); each module's header declares its own. */
extern const app_module_t *const app_modules[];
extern const size_t app_module_count;

#endif
