/**
 * Reads just enough of a JPEG or PNG header to plan its preprocessing and to tell whether the native fast
 * path decodes it exactly as the general (sharp) path would: size, channel layout, bit depth, EXIF
 * orientation, embedded colour profile. Never throws: anything unexpected is `undefined` (the general path
 * then decodes the file and reports problems by name).
 */

export interface ImageHeader {
  readonly format: 'jpeg' | 'png';
  readonly width: number;
  readonly height: number;
  /** False when something in the file (colour profile, orientation, CMYK, 16-bit, gamma) needs sharp. */
  readonly simple: boolean;
}

export function readImageHeader(bytes: Uint8Array): ImageHeader | undefined {
  if (bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff)
    return jpegHeader(bytes);
  if (bytes.length > 33 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return pngHeader(bytes);
  return undefined;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const u16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;
const u32 = (b: Uint8Array, at: number): number =>
  ((b[at]! << 24) | (b[at + 1]! << 16) | u16(b, at + 2)) >>> 0;
const ascii = (b: Uint8Array, at: number, n: number): string =>
  String.fromCharCode(...b.subarray(at, Math.min(b.length, at + n)));

function jpegHeader(b: Uint8Array): ImageHeader | undefined {
  let at = 2;
  let simple = true;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return undefined;
    const marker = b[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    const length = u16(b, at + 2);
    const body = at + 4;
    if (length < 2 || body + length - 2 > b.length) return undefined;
    if (marker === 0xe1 && ascii(b, body, 6) === 'Exif\0\0') {
      const o = exifOrientation(b.subarray(body + 6, body + length - 2));
      if (o !== undefined && o !== 1) simple = false;
    } else if (marker === 0xe2 && ascii(b, body, 12) === 'ICC_PROFILE\0') {
      simple = false;
    } else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const precision = b[body]!;
      const height = u16(b, body + 1);
      const width = u16(b, body + 3);
      const components = b[body + 5]!;
      if (width === 0 || height === 0) return undefined;
      simple &&= precision === 8 && (components === 1 || components === 3);
      return { format: 'jpeg', width, height, simple };
    } else if (marker === 0xda || marker === 0xd9) {
      return undefined; // scan data before any frame header
    }
    at = body + length - 2;
  }
  return undefined;
}

/** The orientation tag (0x0112) of IFD0 in a TIFF-structured EXIF block, if present. */
function exifOrientation(t: Uint8Array): number | undefined {
  if (t.length < 8) return undefined;
  const little = t[0] === 0x49 && t[1] === 0x49;
  if (!little && !(t[0] === 0x4d && t[1] === 0x4d)) return undefined;
  const view = new DataView(t.buffer, t.byteOffset, t.byteLength);
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > t.length) return undefined;
  const entries = view.getUint16(ifd, little);
  for (let i = 0; i < entries; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > t.length) return undefined;
    if (view.getUint16(e, little) === 0x0112) return view.getUint16(e + 8, little);
  }
  return undefined;
}

/** sRGB's gamma as PNG stores it (1/2.2 × 100000), with its usual rounding. */
const SRGB_GAMMA = new Set([45454, 45455]);

function pngHeader(b: Uint8Array): ImageHeader | undefined {
  if (ascii(b, 12, 4) !== 'IHDR') return undefined;
  const width = u32(b, 16);
  const height = u32(b, 20);
  const depth = b[24]!;
  if (width === 0 || height === 0) return undefined;
  let simple = depth <= 8;
  let at = 8;
  while (simple && at + 8 <= b.length) {
    const length = u32(b, at);
    const type = ascii(b, at + 4, 4);
    if (type === 'IDAT' || type === 'IEND') break;
    if (type === 'iCCP' || type === 'eXIf' || type === 'cHRM') simple = false;
    if (type === 'gAMA' && !SRGB_GAMMA.has(u32(b, at + 8))) simple = false;
    at += 12 + length;
  }
  return { format: 'png', width, height, simple };
}
