/* metrics/metrics_api — see metrics_api.h. */
#include "metrics/metrics_api.h"

#include "app/app.h"
#include "metrics/metrics.h"
#include "metrics/metrics_server.h"

static metrics_server_t *management; /* one app per process */

static int metrics_start(app_t *app, char *err, size_t err_size)
{
    metrics_process_register(MEETOA_VERSION);
    if (app->config->management_port < 0)
        return 0;
    management = metrics_server_start(app->config->management_address, app->config->management_port, err, err_size);
    return management != NULL ? 0 : -1;
}

static void metrics_stop(app_t *app)
{
    metrics_server_stop(management);
    management = NULL;
}

const app_module_t metrics_module = {
    .name = "metrics",
    .start = metrics_start,
    .stop = metrics_stop,
};
