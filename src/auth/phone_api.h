/*
 * auth/phone_api — the caller's phone number and WeChat session, for logged-in users.
 *
 * POST /wx/auth/bindPhone (auth_bind_phone):
 *   {"code"}               today's <button open-type="getPhoneNumber"> code: WeChat's
 *                          getuserphonenumber answers the number;
 *   {"encryptedData","iv"} older clients: decrypted with the session_key of the caller's
 *                          session (AES-128-CBC); a key that no longer matches answers 733.
 *   Either way the watermark appid must be ours (732), and a number bound to another user is
 *   refused with 705 unless oa.phone.allow-shared. Answer {phone, purePhoneNumber, countryCode}.
 * GET /wx/auth/check_session (auth_check_session): asks WeChat's checksession whether the
 *   session_key stored for the caller's session is still the valid one: {"valid": bool}.
 */
#ifndef MEETOA_AUTH_PHONE_API_H
#define MEETOA_AUTH_PHONE_API_H

#include <h2o.h>

int auth_bind_phone(h2o_req_t *req, void *app);
int auth_check_session(h2o_req_t *req, void *app);

#endif
