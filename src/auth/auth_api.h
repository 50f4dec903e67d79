/*
 * auth/auth_api — the /wx/auth/... endpoints of docs/api.md: login_by_weixin, info, logout.
 * Each is an http_handler_fn taking the app_t as its `app`.
 */
#ifndef MEETOA_AUTH_AUTH_API_H
#define MEETOA_AUTH_AUTH_API_H

#include <h2o.h>

#include "app/module.h"

/* The auth module: every /wx/auth/ route (login, info, logout, bindPhone, profile, check_session). */
extern const app_module_t auth_module;

int auth_login_by_weixin(h2o_req_t *req, void *app);
int auth_info(h2o_req_t *req, void *app);
int auth_logout(h2o_req_t *req, void *app);

#endif
