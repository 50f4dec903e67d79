/*
 * org/member_api — the members of the organization (docs/api.md "Members"): member/me,
 * join, the admins' requests, approve, role, remove, invite codes, and the member list.
 * Every endpoint is an org_job (org/org_job.h); the store verbs are store_org.h's.
 */
#ifndef MEETOA_ORG_MEMBER_API_H
#define MEETOA_ORG_MEMBER_API_H

#include "app/module.h"

extern const app_module_t member_module;

#endif
