/** Turns user inputs (image paths/bytes/pixels, or texts) into the exported model's input tensors. */
import type { Dataset, Example } from '../data/types.js';
import { GraftError } from '../errors.js';
import type { ModelManifest } from '../export/manifest.js';
import { preprocessBatch } from '../preprocess/image.js';
import type { ImageInput } from '../preprocess/image-types.js';
import type { BufferPool } from '../runtime/buffer-pool.js';
import type { Tensor } from '../tensor.js';

export type TextEncoderHook = (
  texts: readonly string[],
  manifest: ModelManifest,
  dir: string,
) => Promise<Record<string, Tensor>>;

let textEncoder: TextEncoderHook | undefined;

/** Text models register their tokenizer-based encoder here (keeps the image path free of tokenizer code). */
export function registerTextEncoder(hook: TextEncoderHook): void {
  textEncoder = hook;
}

/** What `predict` takes for a data set's example: the image source, or `{ text }`. */
export function exampleInput(ds: Dataset, e: Example<unknown>): ImageInput | { text: string } {
  return ds.kind === 'text' ? { text: e.source as string } : (e.source as ImageInput);
}

export interface EncodeOptions {
  /** Where image batches' buffers come from (a server reuses them; default: fresh allocations). */
  pool?: BufferPool;
  /** Largest image accepted, in pixels (default: the process-wide pixel budget, 40 MP). */
  maxPixels?: number;
}

export async function encodeInputs(
  inputs: readonly (ImageInput | { text: string })[],
  manifest: ModelManifest,
  dir: string,
  options: EncodeOptions = {},
): Promise<Record<string, Tensor>> {
  if (manifest.preprocess.kind === 'image') {
    const images = inputs.map((x) => {
      if (typeof x === 'object' && 'text' in x)
        throw new GraftError('BAD_INPUT', 'this model classifies images, not text');
      return x;
    });
    return {
      [manifest.inputs[0]!]: await preprocessBatch(images, manifest.preprocess, {
        pool: options.pool,
        maxPixels: options.maxPixels,
      }),
    };
  }
  const texts = inputs.map((x) => {
    if (typeof x === 'object' && 'text' in x) return x.text;
    if (typeof x === 'string') return x;
    throw new GraftError('BAD_INPUT', 'this model classifies text; pass strings');
  });
  // The text pipeline (tokenizers) loads only when a text model is used; importing it registers the hook.
  if (!textEncoder) await import('../text/index.js');
  if (!textEncoder)
    throw new GraftError('UNSUPPORTED_OP', 'the text pipeline did not register a text encoder');
  return textEncoder(texts, manifest, dir);
}
