/*
 * meeting/vote_api — votes on a meeting's questions (投票; docs/api.md "Votes"):
 *   POST /wx/vote/create, /wx/vote/open, /wx/vote/close   the host (or an admin)
 *   POST /wx/vote/cast {id, optionIds}                     the host and participants, once
 *   GET  /wx/vote/result?id=                               people on the meeting, approver, admins
 *   GET  /wx/vote/list?meetingId=                          the same
 * Every endpoint is an org_job (org/org_job.h); the store verbs are store_vote.h's.
 */
#ifndef MEETOA_MEETING_VOTE_API_H
#define MEETOA_MEETING_VOTE_API_H

#include "app/module.h"

extern const app_module_t vote_module;

#endif
