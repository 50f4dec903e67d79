/*
 * meeting/minutes_api — a meeting's minutes (会议纪要) and attachments (docs/api.md "Minutes"):
 *   POST /wx/meeting/minutes {id, text}                 the host or an admin, once it has ended
 *   GET  /wx/meeting/minutes?id=                        people on it, its approver, admins
 *   POST /wx/meeting/attachment (multipart: id, file)   the host or an admin, once it has ended
 *   GET  /wx/meeting/attachment?id=                     the file (readers as above)
 *   POST /wx/meeting/attachment/delete {id}             the host or an admin
 * Attachments are judged by their bytes (storage/doc_type.h) and kept under
 * oa.storage.dir/attachments; only logged-in readers get them (never a public URL). With
 * oa.wx.content-check an image attachment goes to WeChat's image check through an expiring
 * signed link (storage_signed_attachment_url); a risky verdict deletes it (push/push_api.c).
 * Archiving a meeting needs its minutes (meeting_api.c).
 */
#ifndef MEETOA_MEETING_MINUTES_API_H
#define MEETOA_MEETING_MINUTES_API_H

#include "app/module.h"

extern const app_module_t minutes_module;

#endif
