/** Generated hostile inputs: images that lie about their size, cut-off files, bad checksums. */
import { crc32, deflateSync } from 'node:zlib';

const be32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  return Buffer.concat([be32(data.length), body, be32(crc32(body))]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * A PNG whose header claims `width` × `height` RGB pixels but whose data holds only a few bytes: tiny on disk,
 * gigabytes if a decoder believes the header and allocates.
 */
export function lyingPng(width: number, height: number): Uint8Array {
  const ihdr = Buffer.concat([be32(width), be32(height), Buffer.from([8, 2, 0, 0, 0])]);
  return new Uint8Array(
    Buffer.concat([
      PNG_SIGNATURE,
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(Buffer.alloc(16))),
      chunk('IEND', new Uint8Array(0)),
    ]),
  );
}

/** A valid w × h gray-gradient RGB PNG built by hand (no encoder library). */
export function plainPng(width: number, height: number): Uint8Array {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width * 3; x++) raw[y * (width * 3 + 1) + 1 + x] = (x * 7 + y * 13) & 255;
  const ihdr = Buffer.concat([be32(width), be32(height), Buffer.from([8, 2, 0, 0, 0])]);
  return new Uint8Array(
    Buffer.concat([
      PNG_SIGNATURE,
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(raw)),
      chunk('IEND', new Uint8Array(0)),
    ]),
  );
}

/** The same PNG with one bit of its image data flipped, so the IDAT checksum no longer holds. */
export function badCrcPng(png: Uint8Array): Uint8Array {
  const out = Buffer.from(png);
  const at = out.indexOf('IDAT', 0, 'latin1');
  out[at + 4 + 2]! ^= 0x01;
  return new Uint8Array(out);
}

/** The first `fraction` of a file. */
export const truncated = (bytes: Uint8Array, fraction = 0.5): Uint8Array =>
  bytes.slice(0, Math.max(1, Math.floor(bytes.length * fraction)));

/** A baseline JPEG header (SOI + SOF0) claiming `width` × `height`, followed by nothing decodable. */
export function lyingJpeg(width: number, height: number): Uint8Array {
  const sof = [0xff, 0xc0, 0, 17, 8, height >> 8, height & 255, width >> 8, width & 255, 3];
  for (let c = 1; c <= 3; c++) sof.push(c, 0x11, 0);
  return new Uint8Array([0xff, 0xd8, ...sof, 0xff, 0xd9]);
}
