/** Test fixtures for the data layer: temp dirs, tiny images written with sharp, a BMP encoder, specs. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import type { ImagePreprocess } from '../../src/models/spec.js';

export async function tempDir(
  prefix = 'graft-data-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A 4x2 RGB image whose byte i is i * 10 (pixel (x, y) channel c = ((y*4 + x)*3 + c) * 10). */
export const RGB_4x2 = Uint8Array.from({ length: 24 }, (_, i) => i * 10);

export function rawSharp(data: Uint8Array, width: number, height: number, channels: 1 | 3 | 4): Sharp {
  return sharp(Buffer.from(data), { raw: { width, height, channels } });
}

/** Solid-colour image, encoded in the given way. */
export function solid(width: number, height: number, rgb: [number, number, number]): Sharp {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
}

/** Encodes RGB or RGBA pixels as an uncompressed BMP (24-bit, or 32-bit BI_RGB with alpha), bottom-up rows. */
export function encodeBmp(
  data: Uint8Array,
  width: number,
  height: number,
  channels: 3 | 4,
  topDown = false,
): Uint8Array {
  const bpp = channels * 8;
  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  const size = 54 + stride * height;
  const buf = Buffer.alloc(size);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(size, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(topDown ? -height : height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(bpp, 28);
  buf.writeUInt32LE(0, 30);
  buf.writeUInt32LE(stride * height, 34);
  for (let y = 0; y < height; y++) {
    const row = 54 + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * channels;
      const d = row + x * channels;
      buf[d] = data[s + 2]!;
      buf[d + 1] = data[s + 1]!;
      buf[d + 2] = data[s]!;
      if (channels === 4) buf[d + 3] = data[s + 3]!;
    }
  }
  return buf;
}

export function spec(overrides: Partial<ImagePreprocess> = {}): ImagePreprocess {
  return {
    kind: 'image',
    size: [2, 2],
    resizeShorter: 2,
    crop: 'center',
    interpolation: 'bilinear',
    layout: 'NHWC',
    channels: 3,
    scale: 1 / 255,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    ...overrides,
  };
}

/** The normalisation formula, computed independently of the library (float64 then rounded to float32). */
export function norm(p: number, s: ImagePreprocess, c: number): number {
  const mean = s.mean.length === 1 ? s.mean[0]! : s.mean[c]!;
  const std = s.std.length === 1 ? s.std[0]! : s.std[c]!;
  return Math.fround((p * s.scale - mean) / std);
}
