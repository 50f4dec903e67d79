/*
 * meeting/meeting_api — meetings and their approval (docs/api.md "Meetings"): create, update,
 * submit, approve, cancel, archive, feedback, detail and the lists of the 会议 tab. Every
 * endpoint is an org_job (org/org_job.h); the store verbs are store_meeting.h's.
 */
#ifndef MEETOA_MEETING_MEETING_API_H
#define MEETOA_MEETING_MEETING_API_H

#include "app/module.h"

extern const app_module_t meeting_module;

#endif
