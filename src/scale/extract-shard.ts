/**
 * Runs one extraction shard: read each file once, check it still has the content key it was submitted with,
 * run the backbone (the same batched extractor `graft train` uses, without its per-process cache), and write
 * the shard's features as one complete file into the shared feature cache.
 */
import { readFile } from 'node:fs/promises';
import type { Example } from '../data/types.js';
import { GraftError, isGraftError } from '../errors.js';
import { sha256, shardComplete, writeShard } from '../features/cache.js';
import { featureCacheDir, FeatureExtractor } from '../features/extract.js';
import { loadBackbone } from '../models/registry.js';
import type { ExtractShardJob, ExtractShardResult, ShardItem } from './jobs.js';

export interface EngineOptions {
  /** ONNX Runtime intra-op threads. */
  threads?: number;
  /** Replaces the job's cache directory (where this machine mounts the shared one elsewhere). */
  cacheDir?: string;
}

/** Reads an item's file and checks its content key; bad files are returned as reasons, not thrown. */
export async function readChecked(item: ShardItem): Promise<Uint8Array | string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(item.source);
  } catch (e) {
    return `cannot read '${item.source}': ${e instanceof Error ? e.message : String(e)}`;
  }
  if (sha256(bytes) !== item.key) return `'${item.source}' changed after the job was submitted`;
  return bytes;
}

/** The backbone prefix for one (model, tensors), loaded once and reused for every shard that needs it. */
export class ExtractEngine {
  private constructor(
    readonly model: string,
    readonly tensors: readonly string[],
    /** The int8 prefix it runs (its cache id), if any. */
    readonly int8Id: string | undefined,
    readonly cacheKey: string,
    private readonly extractor: FeatureExtractor,
  ) {}

  static async open(job: ExtractShardJob, options: EngineOptions): Promise<ExtractEngine> {
    const { model, tensors } = job;
    const backbone = await loadBackbone(model);
    const pre = backbone.spec.preprocess;
    if (pre.kind !== 'image')
      throw new GraftError(
        'BAD_OPTION',
        `${model} is not an image model; graft extract runs image backbones`,
      );
    const cacheDir = options.cacheDir ?? job.cacheDir;
    const extractor = await FeatureExtractor.create(backbone.model, backbone.spec.inputName, pre, tensors, {
      cacheDir: false,
      session: options.threads ? { threads: options.threads } : undefined,
      ...(job.int8 ? { int8: { cached: { ...job.int8, cacheDir } } } : {}),
    });
    return new ExtractEngine(model, tensors, job.int8?.id, extractor.featureKey, extractor);
  }

  matches(job: ExtractShardJob): boolean {
    return (
      job.model === this.model &&
      job.tensors.join('\n') === this.tensors.join('\n') &&
      job.int8?.id === this.int8Id
    );
  }

  async run(job: ExtractShardJob, options: EngineOptions): Promise<ExtractShardResult> {
    if (job.cacheKey !== this.cacheKey) {
      throw new GraftError(
        'BAD_OPTION',
        `shard ${job.shard + 1}/${job.shards}: this worker's features for ${job.model} would differ from the ` +
          `coordinator's (model bytes, preprocessing or image decoder differ: cache key ${this.cacheKey.slice(0, 12)} ` +
          `vs ${job.cacheKey.slice(0, 12)}); run the same graft version with the same native addon everywhere`,
      );
    }
    const dir = featureCacheDir(options.cacheDir ?? job.cacheDir);
    if (shardComplete(dir, job.cacheKey, job.shardName))
      return { kind: 'extract', rows: 0, existing: true, skipped: [] };
    const skipped: { id: string; reason: string }[] = [];
    const examples: Example<Uint8Array>[] = [];
    const keyOf = new Map<string, string>();
    for (const item of job.items) {
      const bytes = await readChecked(item);
      if (typeof bytes === 'string') {
        if (job.onBadInput === 'fail') throw new GraftError('BAD_INPUT', bytes, { file: item.source });
        skipped.push({ id: item.id, reason: bytes });
        continue;
      }
      examples.push({ id: item.id, label: 0, source: bytes });
      keyOf.set(item.id, item.key);
    }
    const set = await this.extractor.extract(examples, { onBadInput: job.onBadInput }).catch((e: unknown) => {
      throw isGraftError(e, 'BAD_INPUT') ? withFile(e, job.items) : e;
    });
    skipped.push(...set.skipped);
    const records = set.ids.map((id, row): [string, Float32Array] => {
      const parts = set.matrices.map((m, t) => m.subarray(row * set.dims[t]!, (row + 1) * set.dims[t]!));
      const values = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let off = 0;
      for (const p of parts) {
        values.set(p, off);
        off += p.length;
      }
      return [keyOf.get(id)!, values];
    });
    writeShard(dir, job.cacheKey, job.shardName, records);
    return { kind: 'extract', rows: records.length, existing: false, skipped };
  }

  release(): Promise<void> {
    return this.extractor.release();
  }
}

/** A decoder error names the example id; say which file that is. */
function withFile(e: GraftError, items: readonly ShardItem[]): GraftError {
  const item = items.find((it) => e.message.includes(it.id));
  if (!item || e.message.includes(item.source)) return e;
  return new GraftError('BAD_INPUT', `${e.message} (file '${item.source}')`, {
    ...e.context,
    file: item.source,
  });
}
