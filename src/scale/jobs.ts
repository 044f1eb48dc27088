/**
 * What travels through the queue: one job per shard of an extraction or a batch prediction. A job's id is a
 * hash of everything that decides its output (model, preprocessing, feature tensors or prediction settings,
 * and the content keys of the shard's inputs), so submitting the same work twice adds nothing.
 */
import { sha256 } from '../features/cache.js';

/** One input of a shard: `source` is a file path (images) or the text itself; `key` the sha256 of its bytes. */
export interface ShardItem {
  readonly id: string;
  readonly key: string;
  readonly source: string;
}

export type BadInputPolicy = 'skip' | 'fail';

export interface ExtractShardJob {
  readonly kind: 'extract';
  /** Index of the shard in its run, and how many shards the run has (for messages). */
  readonly shard: number;
  readonly shards: number;
  /** Registry id or source of the backbone, as `loadBackbone` takes it. */
  readonly model: string;
  readonly tensors: readonly string[];
  /**
   * The int8 prefix to run instead of the float one: `<cacheDir>/int8/<id>.onnx`, made by the coordinator;
   * a worker checks its bytes against `sha256`.
   */
  readonly int8?: { readonly id: string; readonly sha256: string };
  /** The feature cache key the coordinator computed; a worker whose own key differs refuses the shard. */
  readonly cacheKey: string;
  /** The shard's file name in the cache: a hash of the cache key and the items' keys (same in every cache). */
  readonly shardName: string;
  /** The shared cache directory (a worker's --cache-dir replaces it where the share is mounted elsewhere). */
  readonly cacheDir: string;
  readonly onBadInput: BadInputPolicy;
  readonly batchSize: number;
  readonly items: readonly ShardItem[];
}

export interface PredictShardJob {
  readonly kind: 'predict';
  readonly shard: number;
  readonly shards: number;
  /** The trained model directory, and the sha256 of its model.onnx + graft.json (checked by the worker). */
  readonly modelDir: string;
  readonly modelHash: string;
  readonly topK: number;
  readonly onBadInput: BadInputPolicy;
  readonly batchSize: number;
  readonly items: readonly ShardItem[];
}

export type ShardJob = ExtractShardJob | PredictShardJob;

export interface ExtractShardResult {
  readonly kind: 'extract';
  /** Rows written to the shard file; `existing` when the file was already complete (a repeated delivery). */
  readonly rows: number;
  readonly existing: boolean;
  readonly skipped: readonly { readonly id: string; readonly reason: string }[];
}

export interface ClassScore {
  readonly label: string;
  readonly probability: number;
}

/** One line of predictions.jsonl: the input as given, then the prediction or why there is none. */
export type PredictionRow =
  | {
      readonly input: string;
      readonly label: string;
      readonly probability: number;
      readonly top: ClassScore[];
    }
  | { readonly input: string; readonly error: string };

export interface PredictShardResult {
  readonly kind: 'predict';
  /** One row per item, in the shard's order. */
  readonly rows: readonly PredictionRow[];
}

export type ShardResult = ExtractShardResult | PredictShardResult;

/** The id of a shard's job (also the name of its feature shard file): a hash of `scope` and its items' keys. */
export function shardJobId(kind: ShardJob['kind'], scope: string, items: readonly ShardItem[]): string {
  return `${kind}-${sha256([scope, ...items.map((it) => it.key)].join('\n'))}`;
}

/** Splits items into consecutive shards of at most `size`. */
export function splitShards<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
