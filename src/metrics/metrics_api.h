/*
 * metrics/metrics_api — the metrics module (app/module.h): at start it registers the process
 * metrics and meetoa_build_info, and, when management.server.port is not -1, starts the
 * management listener (metrics/metrics_server.h) on management.server.address (default
 * 127.0.0.1) serving GET /metrics; it adds no route to the API's listener (nothing under /wx/).
 * Every other metric is registered by the code that counts it (docs/metrics.md lists them).
 */
#ifndef MEETOA_METRICS_METRICS_API_H
#define MEETOA_METRICS_METRICS_API_H

#include "app/module.h"

extern const app_module_t metrics_module;

#endif
