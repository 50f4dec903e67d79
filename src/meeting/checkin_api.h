/*
 * meeting/checkin_api — sign-in (签到) at a meeting (docs/api.md "Sign-in"):
 *   GET  /wx/meeting/checkin-code?id=     the host's mini program code to scan (an image)
 *   POST /wx/meeting/checkin {scene}      the page opened by the scan signs the caller in
 *   POST /wx/meeting/checkin/makeup       the host's make-up sign-in (补签) for an attendee
 *   GET  /wx/meeting/attendance.csv?id=   the host's attendance sheet (UTF-8 with BOM)
 * Sign-in is open from oa.checkin.open-minutes before the start until the end, for the people
 * on an approved meeting, once each (a second scan answers the first sign-in), late after the
 * start. The scenes are meeting/checkin_scene.h's; the images meeting/checkin_codes.h's.
 */
#ifndef MEETOA_MEETING_CHECKIN_API_H
#define MEETOA_MEETING_CHECKIN_API_H

#include "app/module.h"

extern const app_module_t checkin_module;

#endif
