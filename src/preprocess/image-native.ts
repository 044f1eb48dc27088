/**
 * The fast path of image preprocessing: 8-bit JPEG / PNG without colour profile or rotation, and raw pixels,
 * for RGB models with bilinear or nearest resizing, go through the native addon (decode with libjpeg-turbo or
 * libdeflate / libpng, JPEG DCT scaling for large images, alpha flattened, antialiased resampling, crop and
 * normalisation written straight into the caller's batch buffer, all off the main thread). Everything else, and
 * any file the addon cannot decode, goes the sharp path, which names the problem.
 */
import { readFile } from 'node:fs/promises';
import type { ImagePreprocess } from '../models/spec.js';
import { planResize } from './image-geometry.js';
import { readImageHeader } from './image-header.js';
import { imageLimits } from './limits.js';
import { isRawImage, type ImageDecodeOptions, type ImageInput } from './image-types.js';
import { nativeImageAddon } from './native.js';

/**
 * Names the implementation that preprocesses images for `spec` in this process, for cache keys: the native
 * path and sharp resample slightly differently (within a level or two), so features cached by one must not be
 * served to the other. Bump the version whenever the native output changes.
 */
export function imagePipelineId(spec: ImagePreprocess): string {
  return nativeHandles(spec) ? 'graft-native-image/2' : 'sharp';
}

/** Whether the addon is built and preprocesses for `spec` (RGB out, bilinear or nearest resizing). */
export function nativeHandles(spec: ImagePreprocess): boolean {
  return nativeImageAddon() !== undefined && spec.channels === 3 && spec.interpolation !== 'bicubic';
}

const packedTables = new WeakMap<Float32Array[], Float32Array>();

function packTables(tables: Float32Array[]): Float32Array {
  let packed = packedTables.get(tables);
  if (!packed) {
    packed = new Float32Array(768);
    tables.forEach((t, c) => packed!.set(t, c * 256));
    packedTables.set(tables, packed);
  }
  return packed;
}

/**
 * Preprocesses `input` into `out` at `offset` natively; resolves false (having written nothing) when the input
 * or spec is not one the addon handles, or the addon failed on it.
 */
export async function preprocessNative(
  input: ImageInput,
  spec: ImagePreprocess,
  out: Float32Array,
  offset: number,
  options: ImageDecodeOptions,
  tables: Float32Array[],
): Promise<boolean> {
  if (!nativeHandles(spec)) return false;
  const addon = nativeImageAddon()!;
  let bytes: Uint8Array;
  let format: 0 | 1 | 2;
  let raw: Int32Array | null = null;
  let width: number;
  let height: number;
  if (isRawImage(input)) {
    const { channels, data } = input;
    ({ width, height } = input);
    if (!(width > 0 && height > 0 && data.length === width * height * channels)) return false;
    bytes = data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    format = 0;
    raw = Int32Array.of(width, height, channels);
  } else {
    try {
      bytes = typeof input === 'string' ? await readFile(input) : input;
    } catch {
      return false;
    }
    const header = readImageHeader(bytes);
    if (!header?.simple) return false;
    ({ width, height } = header);
    format = header.format === 'jpeg' ? 1 : 2;
  }
  // Larger images go to sharp, which refuses them by name (the pixel budget, which callers check first).
  if (width * height > imageLimits(options).maxPixels) return false;
  const plan = planResize(width, height, spec);
  const [outH, outW] = spec.size;
  const geometry = Int32Array.of(
    outW,
    outH,
    plan.resizeWidth,
    plan.resizeHeight,
    plan.crop?.left ?? 0,
    plan.crop?.top ?? 0,
    spec.interpolation === 'nearest' ? 0 : 1,
    spec.layout === 'NCHW' ? 1 : 0,
    options.background === 'black' ? 0 : 255,
  );
  try {
    await addon.preprocess(bytes, format, raw, geometry, packTables(tables), out, offset);
    return true;
  } catch {
    return false;
  }
}
