/** Cheap and thorough checks that an image file is usable, for dataset loading. */
import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { isGraftError } from '../errors.js';
import { preprocessImage } from '../preprocess/image.js';
import { readImageHeader } from '../preprocess/image-header.js';
import { imageLimits, overBudget } from '../preprocess/limits.js';
import type { ImagePreprocess } from '../models/spec.js';
import { IMAGE_EXTENSIONS, type ResolvedLoadOptions } from './types.js';

export function hasImageExtension(path: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(path).toLowerCase());
}

/** Names the image format from its first bytes, or returns null when it is none we read. */
export function sniffImageFormat(head: Uint8Array): 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'bmp' | null {
  const b = (i: number): number => head[i] ?? -1;
  const ascii = (from: number, text: string): boolean =>
    [...text].every((ch, i) => b(from + i) === ch.charCodeAt(0));
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'jpeg';
  if (b(0) === 0x89 && ascii(1, 'PNG')) return 'png';
  if (ascii(0, 'GIF8')) return 'gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  if ((ascii(0, 'II') && b(2) === 42 && b(3) === 0) || (ascii(0, 'MM') && b(2) === 0 && b(3) === 42))
    return 'tiff';
  if (ascii(0, 'BM')) return 'bmp';
  return null;
}

const HEADER_BYTES = 64 * 1024;

const DECODE_CHECK: ImagePreprocess = {
  kind: 'image',
  size: [8, 8],
  resizeShorter: 8,
  crop: 'none',
  interpolation: 'nearest',
  layout: 'NHWC',
  channels: 3,
  scale: 1,
  mean: [0],
  std: [1],
};

/**
 * Checks one image file at the requested level; returns null when fine, otherwise why it is not.
 * 'none' only checks that it exists; 'header' also reads its first 64 KB (format, and for JPEG and PNG the size
 * against the pixel budget); 'decode' decodes it fully.
 */
export async function checkImageFile(
  path: string,
  level: ResolvedLoadOptions['verify'],
): Promise<string | null> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return 'not a regular file';
    if (level === 'none') return null;
    if (st.size === 0) return 'empty file (0 bytes)';
    const fh = await open(path, 'r');
    // enough for the frame header of nearly every JPEG (it follows EXIF and other metadata) and any PNG's IHDR
    const head = new Uint8Array(Math.min(st.size, HEADER_BYTES));
    try {
      await fh.read(head, 0, head.length, 0);
    } finally {
      await fh.close();
    }
    if (!sniffImageFormat(head)) return 'not an image (unrecognised content)';
    const size = readImageHeader(head);
    const tooLarge = size && overBudget(size.width, size.height, imageLimits().maxPixels);
    if (tooLarge) return tooLarge;
    if (level === 'decode') await preprocessImage(path, DECODE_CHECK);
    return null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'no such file';
    if (isGraftError(e)) return e.message.replace(/^cannot read image '.*?': /, '');
    return String(e);
  }
}

/** Runs `fn` over items with at most `limit` in flight, results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return out;
}
