// WeChat's message push as WeChat sends it, made with Node's own crypto (an implementation
// independent of the server's src/push/push_crypto.c):
//   aesKeyText()                      a random EncodingAESKey (43 letters and digits)
//   aesKey(text)                      its 32 bytes
//   sha1(...parts)                    the signature: SHA-1 of the sorted parts, hex
//   encrypt(keyText, msg, appId?)     safe mode's Encrypt of the text msg
//   pushSafe(oa, token, keyText, msg, over?)
//                                     POSTs msg (an object) to oa's /wx/wechat/push in safe mode;
//                                     `over` forges or breaks one part: timestamp, encrypt, key,
//                                     appId, signature, msgSignature, xml (an XML outer body)
import { createCipheriv, createHash, randomBytes } from 'node:crypto';

import { APP_ID, send } from './meetoa.mjs';

export function aesKeyText() {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(43), (b) => alphabet[b % 62]).join('');
}

/** 43 base64 characters -> 32 bytes, the trailing 2 bits dropped (as WeChat's Java decoder does). */
export function aesKey(text) {
  return Buffer.from(text + '=', 'base64').subarray(0, 32);
}

export function sha1(...parts) {
  return createHash('sha1').update([...parts].sort().join('')).digest('hex');
}

/** Safe mode's Encrypt of msg: AES-256-CBC, IV the key's first 16 bytes, PKCS#7 to 32 bytes. */
export function encrypt(keyText, msg, appId = APP_ID) {
  const key = aesKey(keyText);
  const body = Buffer.from(msg);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  let plain = Buffer.concat([randomBytes(16), len, body, Buffer.from(appId)]);
  const pad = 32 - (plain.length % 32);
  plain = Buffer.concat([plain, Buffer.alloc(pad, pad)]);
  const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(plain), c.final()]).toString('base64');
}

const now = () => String(Math.floor(Date.now() / 1000));

export async function pushSafe(oa, token, keyText, msg, over = {}) {
  const timestamp = over.timestamp ?? now();
  const nonce = String(100000 + Math.floor(Math.random() * 1e6));
  const enc = over.encrypt ?? encrypt(over.key ?? keyText, JSON.stringify(msg), over.appId);
  const body = over.xml ? `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[${enc}]]></Encrypt></xml>`
    : JSON.stringify({ ToUserName: 'gh_1', Encrypt: enc });
  const signature = over.signature ?? sha1(token, timestamp, nonce);
  const msgSignature = over.msgSignature ?? sha1(token, timestamp, nonce, enc);
  const q = `signature=${signature}&timestamp=${timestamp}&nonce=${nonce}&encrypt_type=aes&msg_signature=${msgSignature}`;
  return send(oa.base, 'POST', `/wx/wechat/push?${q}`, body, { 'Content-Type': over.xml ? 'text/xml' : 'application/json' });
}
