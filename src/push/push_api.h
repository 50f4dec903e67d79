/*
 * push/push_api — the endpoint of WeChat's message push (消息推送), `GET/POST /wx/wechat/push`
 * (docs/api.md "Message push"): URL verification, plaintext and safe mode packets in JSON or
 * XML, and the events MeetOA acts on.
 *
 *   GET   signature over (oa.wx.push.token, timestamp, nonce) checked; echostr answered as
 *         plain text, as received.
 *   POST  the same signature, a timestamp within 5 minutes; with oa.wx.push.aes-key only safe
 *         mode (encrypt_type=aes, msg_signature over the four strings, the packet opened with
 *         the current key, then the previous one, its appid ours); without it, plaintext.
 *         Answered "success" (text/plain) once handled; a packet seen already (its trace_id, or
 *         Event + FromUserName + CreateTime + a hash of the whole packet) is answered "success"
 *         again and not redone.
 *   Events: user_authorization_revoke (RevokeInfo 6: nickname and avatar cleared, an uploaded
 *         avatar file deleted; 8: the phone number cleared); user_authorization_cancellation
 *         (the user closed their WeChat account: the user is closed, status 2); wxa_media_check
 *         (content/content_check.h); the subscription events of configured templates
 *         (store/store_notify.h): subscribe_msg_popup_event's accepts add to the quota, paired
 *         with the client's reports of the same taps; subscribe_msg_change_event's "reject"
 *         ends it; subscribe_msg_sent_event with an ErrorCode fails the reminder of its MsgID
 *         (and ends the quota when ErrorStatus says the user refused). Others are logged and
 *         acknowledged. Refusals answer 403 (signature, stale, undecryptable) and log a WARN
 *         line without the values.
 */
#ifndef MEETOA_PUSH_PUSH_API_H
#define MEETOA_PUSH_PUSH_API_H

#include "app/module.h"

extern const app_module_t push_module;

#endif
