/** Options of `graft extract` and of batch prediction, each with its defaults in one place. */
import { GraftError } from '../errors.js';
import { PIXELS_ID } from '../models/pixels.js';
import { TFIDF_ID } from '../pipeline/text-tfidf.js';
import type { ShardProgress } from './backend.js';
import type { BadInputPolicy } from './jobs.js';

export type ScaleEvent =
  | { type: 'stage'; message: string }
  | { type: 'shards'; progress: ShardProgress }
  | { type: 'warning'; message: string; count: number };

interface RunOptions {
  /** redis://host:port of the queue the workers serve; omit to run every shard on this machine. */
  queue?: string;
  /** Inputs per shard (one job). */
  shardSize: number;
  /** Inputs per ONNX Runtime run within a shard. */
  batchSize: number;
  onBadInput: BadInputPolicy;
  /** ONNX Runtime intra-op threads for local runs. */
  threads?: number;
  /** Attempts per shard on the queue before it counts as failed. */
  attempts: number;
  onEvent?: (e: ScaleEvent) => void;
  signal?: AbortSignal;
}

export interface ExtractRunOptions extends RunOptions {
  /** A manifest (labels optional), an image folder, or a labelled manifest. */
  data: string;
  model: string;
  /** `auto` (the candidate cuts `graft train` cross-validates, and the final features), `final`, or a tensor. */
  features: string;
  /** The shared feature cache directory (default: $GRAFT_CACHE or ~/.cache/graft). */
  cacheDir?: string;
  /**
   * Extract through an int8 copy of the backbone prefix, calibrated on `calibrationExamples` of the inputs (the
   * ones with the smallest content hashes: the same sample whatever the listing order) and kept in the cache,
   * where every worker reads it. Its features have a cache key of their own.
   */
  int8: boolean;
  /** Inputs the int8 prefix is calibrated on (default 256; only with int8). */
  calibrationExamples?: number;
}

export interface PredictRunOptions extends RunOptions {
  modelDir: string;
  /** A CSV/JSONL manifest with a path or text column. */
  manifest: string;
  /** Where predictions.jsonl goes (written atomically once every shard is done). */
  out: string;
  topK: number;
}

const RUN_DEFAULTS = { shardSize: 256, batchSize: 32, onBadInput: 'skip', attempts: 3 } as const;

const defined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** Options that only a queue run, or only a local run, can honour: refused on the other kind of run. */
function refuseMisplaced(o: Partial<RunOptions>): void {
  if (o.queue === undefined && o.attempts !== undefined)
    throw new GraftError(
      'BAD_OPTION',
      '--attempts counts retries of shards on a queue, and this run has no --queue; drop --attempts or give --queue',
    );
  if (o.queue !== undefined && o.threads !== undefined)
    throw new GraftError(
      'BAD_OPTION',
      "--threads sets this machine's ONNX Runtime threads, and with --queue the workers run the shards; give --threads to `graft worker` instead",
    );
}

export function resolveExtractOptions(
  o: Partial<ExtractRunOptions> & Pick<ExtractRunOptions, 'data'>,
): ExtractRunOptions {
  refuseMisplaced(o);
  if (o.model === PIXELS_ID || o.model === TFIDF_ID)
    throw new GraftError(
      'BAD_OPTION',
      `--model ${o.model} is a no-transfer baseline fitted on the training split: it has nothing to extract ` +
        `ahead of training; graft train --model ${o.model} computes it directly`,
    );
  if (!o.int8 && o.calibrationExamples !== undefined)
    throw new GraftError(
      'BAD_OPTION',
      '--calibration-examples sizes the int8 calibration, and this run extracts float features; add --int8 or drop --calibration-examples',
    );
  return {
    ...RUN_DEFAULTS,
    model: 'npm:nsfwjs/mobilenet_v2',
    features: 'auto',
    int8: false,
    ...defined(o),
    ...(o.int8 ? { calibrationExamples: o.calibrationExamples ?? 256 } : {}),
  } as ExtractRunOptions;
}

export function resolvePredictOptions(
  o: Partial<PredictRunOptions> & Pick<PredictRunOptions, 'modelDir' | 'manifest'>,
): PredictRunOptions {
  refuseMisplaced(o);
  return { ...RUN_DEFAULTS, out: 'predictions.jsonl', topK: 1, ...defined(o) } as PredictRunOptions;
}
