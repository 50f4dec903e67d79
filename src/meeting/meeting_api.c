/* meeting/meeting_api — see meeting_api.h. */
#include "meeting/meeting_api.h"

#include "org/org_job.h"

const app_module_t meeting_module = {.name = "meeting"};
