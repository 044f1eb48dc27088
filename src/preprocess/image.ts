/**
 * Image preprocessing from a model's ImagePreprocess spec: decode (graft's native addon for plain JPEG / PNG /
 * raw pixels, see image-native.ts; otherwise sharp, and BMP by our own decoder), EXIF
 * orientation, alpha flattened onto white (or black, by option), 8-bit RGB or gray, resize shorter side + centre
 * crop (or plain resize), then `value = (pixel * scale - mean[c]) / std[c]` in NHWC or NCHW layout.
 */
import { readFile } from 'node:fs/promises';
import type { BufferPool } from '../runtime/buffer-pool.js';
import type { ImagePreprocess } from '../models/spec.js';
import type { Tensor } from '../tensor.js';
import { decodeForSpec } from './image-decode.js';
import { nativeHandles, preprocessNative } from './image-native.js';
import { normalizationTables, writeNormalized } from './image-normalize.js';
import { validateImageSpec } from './image-geometry.js';
import { readImageHeader } from './image-header.js';
import { checkPixelBudget, imageLimits } from './limits.js';
import {
  describeInput,
  isRawImage,
  type ImageDecodeOptions,
  type ImageInput,
  type RawImage,
} from './image-types.js';

/**
 * Refuses an image whose header claims more pixels than `maxPixels`, before anything is decoded: raw pixels,
 * JPEG and PNG here (their headers are read without decoding); other formats are held to the same limit by
 * sharp's own header check.
 */
function checkHeaderBudget(source: ImageInput, maxPixels: number, name: string): void {
  if (typeof source === 'string') return;
  const size = isRawImage(source) ? source : readImageHeader(source);
  if (size) checkPixelBudget(size.width, size.height, maxPixels, name);
}

export type { ImageDecodeOptions, ImageInput, RawImage } from './image-types.js';
export { isRawImage, describeInput } from './image-types.js';
export { planResize, validateImageSpec, type ResizePlan } from './image-geometry.js';
export { decodeBmp, isBmp } from './image-bmp.js';

export interface BatchOptions extends ImageDecodeOptions {
  /** How many images are decoded at once (sharp works on libuv's thread pool). Default 4. */
  readonly concurrency?: number;
  /** Where the batch's buffer comes from (default: a fresh allocation). */
  readonly pool?: BufferPool;
}

/** Number of floats one preprocessed image occupies: H * W * C. */
export function imageLength(spec: ImagePreprocess): number {
  return spec.size[0] * spec.size[1] * spec.channels;
}

/** The tensor shape of a batch of `n` images under `spec`. */
export function batchShape(n: number, spec: ImagePreprocess): [number, number, number, number] {
  const [h, w] = spec.size;
  return spec.layout === 'NCHW' ? [n, spec.channels, h, w] : [n, h, w, spec.channels];
}

/**
 * Preprocesses one image into `out` at `offset` (length `imageLength(spec)`); lets callers fill a batch buffer
 * they own without copying.
 */
export async function preprocessInto(
  input: ImageInput,
  spec: ImagePreprocess,
  out: Float32Array,
  offset = 0,
  options: ImageDecodeOptions = {},
  tables: Float32Array[] = normalizationTables(spec),
): Promise<void> {
  // A path the native path may take is read once, here: should it decline the file (rotated, colour-managed…),
  // sharp decodes the same bytes, named by the path.
  const bytes =
    typeof input === 'string' && nativeHandles(spec)
      ? await readFile(input).catch(() => undefined)
      : undefined;
  const source = bytes ?? input;
  const limits = imageLimits(options);
  const name = describeInput(input, options.name);
  checkHeaderBudget(source, limits.maxPixels, name);
  if (await preprocessNative(source, spec, out, offset, options, tables)) return;
  const px = await decodeForSpec(source, spec, { ...options, ...limits, name });
  writeNormalized(px.data, px.width, px.height, px.channels, spec, out, offset, tables);
}

/** Preprocesses one image: a path, encoded bytes (any format sharp reads, or BMP) or decoded pixels. */
export async function preprocessImage(
  input: ImageInput,
  spec: ImagePreprocess,
  options: ImageDecodeOptions = {},
): Promise<Float32Array> {
  validateImageSpec(spec);
  const out = new Float32Array(imageLength(spec));
  await preprocessInto(input, spec, out, 0, options);
  return out;
}

/** Same resize / crop / normalise for already-decoded pixels (e.g. MNIST's 28x28 gray digits). */
export function preprocessRaw(
  raw: RawImage,
  spec: ImagePreprocess,
  options: ImageDecodeOptions = {},
): Promise<Float32Array> {
  return preprocessImage(raw, spec, options);
}

/**
 * Preprocesses many images into one float32 tensor, [N,H,W,C] or [N,C,H,W] per the spec's layout.
 * The first input that cannot be read rejects the whole batch with GraftError('BAD_INPUT') naming it;
 * datasets filter bad files beforehand (see src/data), so a batch normally contains only good ones.
 */
export async function preprocessBatch(
  inputs: readonly ImageInput[],
  spec: ImagePreprocess,
  options: BatchOptions = {},
): Promise<Tensor<'float32'>> {
  validateImageSpec(spec);
  const per = imageLength(spec);
  // Every element is written below (or the batch rejects), so the buffer needs no zeroing: at 224x224 that
  // is a 600 KB memset per image saved on a server's main thread.
  const bytes = per * inputs.length * 4;
  const data = new Float32Array(
    options.pool ? options.pool.take(bytes) : Buffer.allocUnsafeSlow(bytes).buffer,
    0,
    per * inputs.length,
  );
  const tables = normalizationTables(spec);
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < inputs.length) {
      const i = next++;
      const { background, maxPixels, allowTruncated } = options;
      await preprocessInto(
        inputs[i]!,
        spec,
        data,
        i * per,
        { background, maxPixels, allowTruncated },
        tables,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, inputs.length) }, worker));
  return { dtype: 'float32', shape: batchShape(inputs.length, spec), data };
}
