/**
 * A small BMP decoder (sharp/libvips cannot read BMP). Supports the common uncompressed forms:
 * 24-bit and 32-bit (BI_RGB or BI_BITFIELDS), 1/4/8-bit palettes, top-down and bottom-up rows.
 * RLE-compressed and 16-bit BMPs are rejected with BAD_INPUT.
 */
import { GraftError } from '../errors.js';
import type { RawImage } from './image-types.js';

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

/** True when the bytes start with the BMP signature "BM". */
export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

function fail(name: string, why: string): never {
  throw new GraftError('BAD_INPUT', `cannot decode BMP '${name}': ${why}`, { file: name });
}

/** Extracts the channel selected by `mask` from `value`, scaled to 0..255. */
function maskChannel(value: number, mask: number): number {
  if (mask === 0) return 255;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const max = mask >>> shift;
  const v = (value & mask) >>> shift;
  return max === 255 ? v : Math.round((v * 255) / max);
}

export function decodeBmp(bytes: Uint8Array, name = '<bmp>'): RawImage {
  if (!isBmp(bytes) || bytes.length < 26) fail(name, 'not a BMP file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pixelOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  let width: number;
  let height: number;
  let bpp: number;
  let compression = BI_RGB;
  let paletteCount = 0;
  if (headerSize === 12) {
    width = view.getUint16(18, true);
    height = view.getInt16(20, true);
    bpp = view.getUint16(24, true);
  } else {
    if (headerSize < 40 || bytes.length < 54) fail(name, `unsupported header size ${headerSize}`);
    width = view.getInt32(18, true);
    height = view.getInt32(22, true);
    bpp = view.getUint16(28, true);
    compression = view.getUint32(30, true);
    paletteCount = view.getUint32(46, true);
  }
  const topDown = height < 0;
  height = Math.abs(height);
  if (width <= 0 || height <= 0 || width * height > 0x3fff * 0x3fff)
    fail(name, `bad dimensions ${width}x${height}`);

  let masks = [0x00ff0000, 0x0000ff00, 0x000000ff, 0];
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    if (bpp !== 32) fail(name, `bitfields with ${bpp}-bit pixels are not supported`);
    // Masks follow a 40-byte header, or live inside a V4/V5 header (same position).
    const at = 14 + 40;
    if (bytes.length < at + 12) fail(name, 'truncated bitfield masks');
    const hasAlphaMask = headerSize >= 56 || compression === BI_ALPHABITFIELDS;
    masks = [
      view.getUint32(at, true),
      view.getUint32(at + 4, true),
      view.getUint32(at + 8, true),
      hasAlphaMask && bytes.length >= at + 16 ? view.getUint32(at + 12, true) : 0,
    ];
  } else if (compression !== BI_RGB) {
    fail(name, `compression ${compression} (RLE/JPEG/PNG-in-BMP) is not supported`);
  } else if (bpp === 32) {
    masks = [0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000];
  }
  if (![1, 4, 8, 24, 32].includes(bpp)) fail(name, `${bpp}-bit pixels are not supported`);

  let palette: Uint8Array | undefined;
  if (bpp <= 8) {
    const entries = paletteCount || 1 << bpp;
    const entrySize = headerSize === 12 ? 3 : 4;
    const start = 14 + headerSize;
    if (start + entries * entrySize > bytes.length) fail(name, 'truncated palette');
    palette = new Uint8Array(entries * 3);
    for (let i = 0; i < entries; i++) {
      const p = start + i * entrySize;
      palette[i * 3] = bytes[p + 2]!;
      palette[i * 3 + 1] = bytes[p + 1]!;
      palette[i * 3 + 2] = bytes[p]!;
    }
  }

  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  if (pixelOffset + stride * height > bytes.length) fail(name, 'file is truncated');
  const rgba = new Uint8Array(width * height * 4);
  let anyAlpha = false;
  for (let y = 0; y < height; y++) {
    const row = pixelOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      if (palette) {
        const bitPos = x * bpp;
        const byte = bytes[row + (bitPos >> 3)]!;
        const idx = bpp === 8 ? byte : (byte >> (8 - bpp - (bitPos & 7))) & ((1 << bpp) - 1);
        const p = Math.min(idx, palette.length / 3 - 1) * 3;
        rgba[o] = palette[p]!;
        rgba[o + 1] = palette[p + 1]!;
        rgba[o + 2] = palette[p + 2]!;
        rgba[o + 3] = 255;
      } else if (bpp === 24) {
        const p = row + x * 3;
        rgba[o] = bytes[p + 2]!;
        rgba[o + 1] = bytes[p + 1]!;
        rgba[o + 2] = bytes[p]!;
        rgba[o + 3] = 255;
      } else {
        const v = view.getUint32(row + x * 4, true);
        rgba[o] = maskChannel(v, masks[0]!);
        rgba[o + 1] = maskChannel(v, masks[1]!);
        rgba[o + 2] = maskChannel(v, masks[2]!);
        rgba[o + 3] = maskChannel(v, masks[3]!);
        if (masks[3] !== 0 && rgba[o + 3] !== 0) anyAlpha = true;
      }
    }
  }
  // Many 32-bit BMPs leave the alpha byte at 0 everywhere: treat those as opaque, drop alpha.
  if (!anyAlpha) {
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
      rgb[j] = rgba[i]!;
      rgb[j + 1] = rgba[i + 1]!;
      rgb[j + 2] = rgba[i + 2]!;
    }
    return { width, height, channels: 3, data: rgb };
  }
  return { width, height, channels: 4, data: rgba };
}
