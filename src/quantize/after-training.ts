/**
 * `graft train … --int8` and the training functions' `int8` option: once a run has written its model directory,
 * model.onnx goes through the quantize pipeline (model-dir.ts, the same one `graft quantize` runs), calibrated on
 * the run's own training split and guarded on its own held-out split, so the directory ships model.int8.onnx
 * with its record in graft.json. Every training path (images, fine-tuning, text) calls `quantizeTrained`.
 */
import { GraftError } from '../errors.js';
import type { Int8Record } from '../export/manifest.js';
import type { TrainedData } from './dir-data.js';
import { quantizeModelDir, type QuantizeDirOptions } from './model-dir.js';
import { resolveQuantizeOptions } from './quantize.js';

/** What a training run may ask of its quantization (the rest comes from the run itself). */
export type TrainInt8Options = Partial<
  Pick<
    QuantizeDirOptions,
    | 'mode'
    | 'method'
    | 'percentile'
    | 'perChannel'
    | 'biasCorrection'
    | 'activationType'
    | 'exclude'
    | 'maxDrop'
    | 'maxExcluded'
    | 'calibrationExamples'
    | 'evalExamples'
    | 'batchSize'
  >
>;

/** `true`: quantize with `graft quantize`'s defaults; an object: with these settings; false/absent: not at all. */
export type Int8Request = boolean | TrainInt8Options;

const KEYS: readonly (keyof TrainInt8Options)[] = [
  'mode',
  'method',
  'percentile',
  'perChannel',
  'biasCorrection',
  'activationType',
  'exclude',
  'maxDrop',
  'maxExcluded',
  'calibrationExamples',
  'evalExamples',
  'batchSize',
];

/**
 * The settings a run's `int8` request stands for, checked before training starts (so a run is not wasted on a
 * request that fails at its end): undefined when none was made.
 */
export function checkInt8Request(
  request: Int8Request | undefined,
  out: string | undefined,
): TrainInt8Options | undefined {
  if (request === undefined || request === false) return undefined;
  if (!out)
    throw new GraftError(
      'BAD_OPTION',
      'int8 writes model.int8.onnx into the model directory: give an output directory (--out) or drop --int8',
    );
  const settings: TrainInt8Options = request === true ? {} : request;
  const unknown = Object.keys(settings).filter((k) => !(KEYS as readonly string[]).includes(k));
  if (unknown.length > 0)
    throw new GraftError(
      'BAD_OPTION',
      `int8 takes ${KEYS.join(', ')}; ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not one of them`,
    );
  resolveQuantizeOptions(settings);
  for (const key of ['calibrationExamples', 'batchSize'] as const) {
    const v = settings[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1))
      throw new GraftError('BAD_OPTION', `int8.${key} must be an integer ≥ 1, got ${v}`);
  }
  return settings;
}

/**
 * Quantizes the model directory `dir` a run just wrote, with the run's data; returns the graft.json record of
 * model.int8.onnx (undefined when no quantization was asked for).
 */
export async function quantizeTrained(
  dir: string,
  request: Int8Request | undefined,
  trained: TrainedData,
  options: { threads?: number; onProgress?: (message: string) => void } = {},
): Promise<Int8Record | undefined> {
  const settings = checkInt8Request(request, dir);
  if (!settings) return undefined;
  const { record } = await quantizeModelDir(dir, {
    ...settings,
    trained,
    ...(options.threads ? { threads: options.threads } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return record;
}
