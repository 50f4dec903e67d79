// png.mjs — small, valid PNG files for the upload and profile suites, built byte by byte
// (signature, IHDR, optional tEXt, IDAT, IEND) so a test controls exactly what it sends.

import zlib from 'node:zlib';

/** One PNG chunk: length, type, data, CRC-32 of type + data. */
export function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(typed));
  return Buffer.concat([len, typed, crc]);
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A valid 1x1 RGBA PNG of the given pixel; `text` (latin1) goes into a tEXt chunk before the pixels. */
export function tinyPng({ pixel = [0x12, 0x34, 0x56, 0xff], text } = {}) {
  const parts = [PNG_SIGNATURE, pngChunk('IHDR', Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]))];
  if (text !== undefined) parts.push(pngChunk('tEXt', Buffer.from(`Comment\0${text}`, 'latin1')));
  parts.push(pngChunk('IDAT', zlib.deflateSync(Buffer.from([0, ...pixel]))), pngChunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}
