/*
 * auth/profile — the user's avatar, nickname and gender.
 *
 * profile_read() checks a legacy WeChat profile object (userInfo, the JSON of rawData, or
 * decrypted user data: nickName <= 63 characters, avatarUrl <= 255, gender 0..2, and the
 * language/city/province/country texts <= 63, which are accepted and not stored).
 *
 * POST /wx/auth/profile (auth_profile) changes any of {nickname, avatar, gender} of the
 * caller: nickname 1..63 characters of valid UTF-8, gender 0/1/2, avatar an https URL
 * (<= 255 characters) or the URL or key of a file uploaded to /wx/storage/upload. Answers
 * the profile as it is afterwards: {nickName, avatar, gender}. With oa.wx.content-check the
 * nickname goes through WeChat's msg_sec_check first (content/content_check.h, scene 1, the
 * caller's openid): risky answers 815 (昵称含有违规内容，请修改后再提交) and changes nothing;
 * review, or a check that failed, is stored and flagged for admins (route /wx/auth/profile,
 * field nickname, object the user) in the update's job.
 */
#ifndef MEETOA_AUTH_PROFILE_H
#define MEETOA_AUTH_PROFILE_H

#include <stdbool.h>

#include <h2o.h>
#include <jansson.h>

#include "api/errno.h"
#include "content/content_check.h"
#include "store/store.h"

#define PROFILE_NICKNAME_MAX_CHARS 63
#define PROFILE_AVATAR_MAX_CHARS   255

typedef struct profile {
    bool present;
    char nickname[STORE_NICKNAME_SIZE];
    char avatar[STORE_AVATAR_SIZE];
    int gender;
} profile_t;

/* Reads a legacy profile object into *out (present = true). False and *err when malformed. */
bool profile_read(json_t *obj, profile_t *out, api_errno_t *err);

/* The content check of a nickname (oa.wx.content-check): {"nickname", "昵称", scene 1 资料},
 * for the profile and the login (content/content_check.h). */
extern const content_field_t profile_nickname_check[];

int auth_profile(h2o_req_t *req, void *app);

#endif
