/*
 * org/room_api — the rooms (docs/api.md "Rooms"): create, update, delete (admins), list and
 * the day's schedule (members). Every endpoint is an org_job (org/org_job.h).
 */
#ifndef MEETOA_ORG_ROOM_API_H
#define MEETOA_ORG_ROOM_API_H

#include "app/module.h"

extern const app_module_t room_module;

#endif
