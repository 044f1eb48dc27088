/**
 * The raw-pixel baseline as a backbone: its graph is the image input flattened (input → Flatten → features),
 * and its spec's preprocessing is a small fixed size chosen from the data. Because it is an ordinary Backbone,
 * feature extraction (and its cache), export (one model.onnx + graft.json), predict, serve and the browser
 * page use it unchanged; `graft train --model pixels` trains a head on raw pixels.
 *
 * Contract: the spec depends on the data (gray digits stay 28×28 gray; everything else is 32×32 RGB), so a
 * pixels backbone is made for a set of examples — `pixelBackbone(examples)`, or
 * `loadBackbone('pixels', { examples })` — and its preprocessing is recorded in graft.json like any model's.
 */
import { readFileSync } from 'node:fs';
import type { Example, ImageSource } from '../data/types.js';
import { attr, GraphBuilder } from '../onnx/builder.js';
import { createModel } from '../onnx/ir.js';
import { isRawImage } from '../preprocess/image-types.js';
import type { ImagePreprocess, ModelSpec } from './spec.js';
import type { Backbone } from './registry.js';
import { PIXELS_ID } from './baselines.js';

export { PIXELS_ID };
export const PIXELS_INPUT = 'pixels';
export const PIXELS_FEATURES = 'pixels_flat';

/** The largest side the baseline uses: raw pixels beyond 32×32 add dimensions, not information a head can use. */
const MAX_SIDE = 32;
/** Examples inspected to decide whether the data is gray. */
const SAMPLE = 16;

/** PNG colour type (byte 25 of the IHDR chunk): 0 gray, 4 gray + alpha. */
function pngIsGray(bytes: Uint8Array): boolean | undefined {
  const signature = [0x89, 0x50, 0x4e, 0x47];
  if (bytes.length < 26 || signature.some((b, i) => bytes[i] !== b)) return undefined;
  return bytes[25] === 0 || bytes[25] === 4;
}

/** JPEG component count, read from the first start-of-frame marker: 1 means gray. */
function jpegIsGray(bytes: Uint8Array): boolean | undefined {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1]!;
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    const startOfFrame = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (startOfFrame) return bytes[i + 9] === 1;
    i += 2 + length;
  }
  return undefined;
}

/** Gray (true), colour (false) or unknown (undefined), from decoded pixels or the file header. */
function sourceIsGray(source: ImageSource): boolean | undefined {
  if (isRawImage(source)) return source.channels <= 2;
  let bytes: Uint8Array;
  try {
    bytes = typeof source === 'string' ? readFileSync(source).subarray(0, 65536) : source;
  } catch {
    return undefined; // unreadable files are reported by the extractor
  }
  return pngIsGray(bytes) ?? jpegIsGray(bytes);
}

/**
 * The baseline's preprocessing for these examples: 28×28 (the images' own size, up to 32) gray when the sampled
 * images are all gray, otherwise 32×32 RGB; pixel values scaled to [0, 1], centre-cropped to a square.
 */
export function pixelPreprocess(examples: readonly Example<ImageSource>[]): ImagePreprocess {
  const sample = examples.slice(0, SAMPLE).map((e) => e.source);
  const verdicts = sample.map(sourceIsGray);
  const gray = verdicts.length > 0 && verdicts.every((v) => v === true);
  const first = sample[0];
  const side =
    gray && first !== undefined && isRawImage(first)
      ? Math.min(MAX_SIDE, first.width, first.height)
      : MAX_SIDE;
  return {
    kind: 'image',
    size: [side, side],
    resizeShorter: side,
    crop: 'center',
    interpolation: 'bilinear',
    layout: 'NHWC',
    channels: gray ? 1 : 3,
    scale: 1 / 255,
    mean: gray ? [0] : [0, 0, 0],
    std: gray ? [1] : [1, 1, 1],
  };
}

/** The spec of a pixels backbone with this preprocessing. */
export function pixelSpec(preprocess: ImagePreprocess): ModelSpec {
  const [h, w] = preprocess.size;
  return {
    id: PIXELS_ID,
    description: `raw pixels, ${h}x${w} ${preprocess.channels === 1 ? 'gray' : 'RGB'}, scaled to [0, 1] (no transfer)`,
    task: 'image',
    format: 'onnx',
    source: PIXELS_ID,
    inputName: PIXELS_INPUT,
    preprocess,
    featureTensor: PIXELS_FEATURES,
    headNodes: [],
    candidateFeatures: [PIXELS_FEATURES],
    license: 'none (no weights)',
  };
}

/**
 * A raw-pixel Backbone: `preprocess` fixes the size and channels (graft.json's `preprocess` reloads it);
 * examples choose them with `pixelPreprocess`.
 */
export function pixelBackbone(from: readonly Example<ImageSource>[] | ImagePreprocess): Backbone {
  const preprocess = Array.isArray(from)
    ? pixelPreprocess(from as readonly Example<ImageSource>[])
    : (from as ImagePreprocess);
  const [h, w] = preprocess.size;
  const b = new GraphBuilder('pixels');
  b.input(PIXELS_INPUT, 'float32', ['batch', h, w, preprocess.channels]);
  b.node('Flatten', [PIXELS_INPUT], { axis: attr.int(1) }, { outputs: [PIXELS_FEATURES] });
  b.output(PIXELS_FEATURES, 'float32', ['batch', h * w * preprocess.channels]);
  return { spec: pixelSpec(preprocess), model: createModel(b.graph, 13) };
}
