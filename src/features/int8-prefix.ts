/**
 * The int8 copy of a pooled backbone prefix, for feature extraction. It is named by everything that decides it
 * (the float prefix's feature cache key, the content hashes of the calibration examples in order, and the
 * quantization options) and kept as `<cacheDir>/int8/<id>.onnx`: a second run calibrates nothing, and every
 * worker of a scale-out that mounts the shared cache runs the very file the coordinator made, so their features
 * agree bit for bit. The features' cache key adds the int8 file's sha256 to the float key.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Example, ImageSource } from '../data/types.js';
import { GraftError } from '../errors.js';
import type { ImagePreprocess } from '../models/spec.js';
import type { Model } from '../onnx/ir.js';
import { decodeModel, encodeModel } from '../onnx/io.js';
import { preprocessBatch } from '../preprocess/image.js';
import { QUANTIZE_DEFAULTS, quantizeModel, type QuantizeOptions } from '../quantize/quantize.js';
import type { SessionOptions } from '../runtime/session.js';
import type { Tensor } from '../tensor.js';
import { writeFileAtomic } from '../util/atomic.js';
import { sha256 } from './cache.js';
import { exampleBytes } from './read-sources.js';

/** Quantization settings an int8 prefix may take (the accuracy guard needs labels, so it is not one of them). */
export type Int8PrefixQuantize = Partial<Omit<QuantizeOptions, 'evaluate' | 'session'>>;

/** Calibrate here (or find the result of the same calibration in the cache). */
export interface Int8Calibrated {
  /** A few hundred examples of the data to extract; their order is part of the model's identity. */
  calibration: readonly Example<ImageSource>[];
  quantize?: Int8PrefixQuantize;
}

/** Run an int8 prefix another process made: `<cacheDir>/int8/<id>.onnx`, whose bytes must hash to `sha256`. */
export interface Int8Cached {
  cached: { id: string; sha256: string; cacheDir: string };
}

export type Int8Extraction = Int8Calibrated | Int8Cached;

export interface Int8Prefix {
  model: Model;
  /** The name it is cached under; undefined when nothing was cached (no cache directory). */
  id: string | undefined;
  /** sha256 of the model file's bytes. */
  sha256: string;
  /** Whether it was calibrated by this call (false: read from the cache). */
  built: boolean;
}

export const int8PrefixFile = (cacheDir: string, id: string): string => join(cacheDir, 'int8', `${id}.onnx`);

/** The cache key of features extracted through an int8 prefix. */
export const int8FeatureKey = (floatKey: string, int8Sha256: string): string =>
  sha256(`${floatKey}\nint8 ${int8Sha256}`);

/** Quantization settings that decide the model, defaults merged, in a fixed order. */
function settings(q: Int8PrefixQuantize = {}): string {
  const o = { ...QUANTIZE_DEFAULTS, ...q };
  return JSON.stringify([
    o.mode,
    o.method,
    o.percentile,
    o.perChannel,
    o.biasCorrection,
    o.activationType,
    [...o.exclude].sort(),
  ]);
}

export async function int8PrefixId(floatKey: string, int8: Int8Calibrated): Promise<string> {
  const keys: string[] = [];
  for (const e of int8.calibration) keys.push(sha256(await exampleBytes(e.source)));
  return sha256(['graft int8 prefix 1', floatKey, settings(int8.quantize), ...keys].join('\n'));
}

async function readCached(file: string, expected?: string): Promise<{ model: Model; sha256: string }> {
  const bytes = await readFile(file);
  const hash = sha256(bytes);
  if (expected !== undefined && hash !== expected)
    throw new GraftError(
      'CORRUPT_MODEL',
      `${file} is not the int8 model this run was planned with (sha256 ${hash.slice(0, 12)}… vs ${expected.slice(0, 12)}…)`,
      { file },
    );
  return { model: decodeModel(bytes), sha256: hash };
}

async function calibrateNow(
  prefix: Model,
  inputName: string,
  preprocess: ImagePreprocess,
  int8: Int8Calibrated,
  session: SessionOptions | undefined,
): Promise<Model> {
  const calibration = int8.calibration;
  if (calibration.length === 0)
    throw new GraftError(
      'BAD_OPTION',
      'int8 extraction needs calibration examples (a few hundred of the data to extract)',
    );
  // Small batches: calibration fetches every activation of a batch at once.
  const size = 8;
  const batches = async function* (): AsyncIterable<Record<string, Tensor>> {
    for (let i = 0; i < calibration.length; i += size) {
      const sources = calibration.slice(i, i + size).map((e) => e.source);
      yield { [inputName]: await preprocessBatch(sources, preprocess) };
    }
  };
  const { model } = await quantizeModel(prefix, batches, { ...int8.quantize, session });
  return model;
}

/**
 * The int8 prefix: read from `<cacheDir>/int8/` when this calibration was done before (or when it is named as
 * cached), otherwise calibrated now and, with a cache directory, written there atomically.
 */
export async function int8Prefix(
  prefix: Model,
  inputName: string,
  preprocess: ImagePreprocess,
  floatKey: string,
  int8: Int8Extraction,
  cacheDir: string | undefined,
  session?: SessionOptions,
): Promise<Int8Prefix> {
  if ('cached' in int8) {
    const { id, sha256: expected, cacheDir: dir } = int8.cached;
    const file = int8PrefixFile(dir, id);
    const got = await readCached(file, expected).catch((e: unknown) => {
      if ((e as { code?: string }).code !== 'ENOENT') throw e;
      throw new GraftError(
        'MODEL_NOT_FOUND',
        `int8 model ${file} is missing: mount the shared cache at the same path on every machine, or give --cache-dir where it is mounted`,
        { file },
      );
    });
    return { ...got, id, built: false };
  }
  const id = cacheDir === undefined ? undefined : await int8PrefixId(floatKey, int8);
  if (id !== undefined && cacheDir !== undefined) {
    const got = await readCached(int8PrefixFile(cacheDir, id)).catch((e: unknown) => {
      if ((e as { code?: string }).code === 'ENOENT') return undefined;
      throw e;
    });
    if (got) return { ...got, id, built: false };
  }
  const model = await calibrateNow(prefix, inputName, preprocess, int8, session);
  const bytes = encodeModel(model);
  if (id !== undefined && cacheDir !== undefined) await writeFileAtomic(int8PrefixFile(cacheDir, id), bytes);
  return { model, id, sha256: sha256(bytes), built: true };
}
