/** Turns user inputs (image paths/bytes/pixels, or texts) into the exported model's input tensors. */
import type { Dataset, Example } from '../data/types.js';
import type { ModelManifest } from '../export/manifest.js';
import { modality } from '../modalities/index.js';
import type { BufferPool } from '../runtime/buffer-pool.js';
import type { Tensor } from '../tensor.js';
import type { PredictInput } from './classifier.js';

/** What `predict` takes for a data set's example: the image source, or `{ text }` (its modality's choice). */
export function exampleInput(ds: Dataset, e: Example<unknown>): PredictInput {
  return modality(ds.kind).exampleInput(e);
}

export interface EncodeOptions {
  /** Where image batches' buffers come from (a server reuses them; default: fresh allocations). */
  pool?: BufferPool;
  /** Largest image accepted, in pixels (default: the process-wide pixel budget, 40 MP). */
  maxPixels?: number;
}

/** The model's feeds for `inputs`, prepared by the plugin of the model's modality (decoding, tokenising). */
export function encodeInputs(
  inputs: readonly PredictInput[],
  manifest: ModelManifest,
  dir: string,
  options: EncodeOptions = {},
): Promise<Record<string, Tensor>> {
  return modality(manifest.preprocess.kind).encode(inputs, manifest, dir, options);
}
