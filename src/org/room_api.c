/* org/room_api — see room_api.h. */
#include "org/room_api.h"

#include "org/org_job.h"

const app_module_t room_module = {.name = "room"};
