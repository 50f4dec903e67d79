/*
 * content/content_api — what the content check flagged, for admins (docs/api.md "Content checks"):
 *   GET  /wx/content/flags?all=&page=&limit=   admin: the open flags (all=true: every flag),
 *                                               newest first, in litemall's page shape
 *   POST /wx/content/flags/resolve {id}        admin: marks a flag looked at
 */
#ifndef MEETOA_CONTENT_CONTENT_API_H
#define MEETOA_CONTENT_CONTENT_API_H

#include "app/module.h"

extern const app_module_t content_module;

#endif
