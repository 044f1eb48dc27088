/**
 * Planning an extraction: read and hash the inputs, drop repeated contents, and cut them into shards whose
 * file names and job ids are content hashes; shards whose files already exist are marked done.
 */
import type { DataWarning } from '../data/types.js';
import { GraftError } from '../errors.js';
import { sha256, shardComplete } from '../features/cache.js';
import { defaultCacheDir, featureCacheDir, featureCacheKey } from '../features/extract.js';
import { featureTensorsFor } from '../features/tensors.js';
import { loadBackbone } from '../models/registry.js';
import type { PlannedShard } from './backend.js';
import { keyInputs, readExtractInputs } from './inputs.js';
import { shardJobId, splitShards, type ExtractShardJob, type ShardItem } from './jobs.js';
import type { ExtractRunOptions, ScaleEvent } from './options.js';

export interface ExtractPlan {
  tensors: string[];
  cacheKey: string;
  cacheDir: string;
  /** The features folder under cacheDir. */
  dir: string;
  inputs: number;
  unique: number;
  unreadable: { id: string; reason: string }[];
  /** What the data set's loader left out before hashing. */
  warnings: readonly DataWarning[];
  shards: PlannedShard[];
}

export async function planExtraction(
  o: ExtractRunOptions,
  emit: (e: ScaleEvent) => void,
): Promise<ExtractPlan> {
  emit({ type: 'stage', message: `reading ${o.data}` });
  const list = await readExtractInputs(o.data, o.onBadInput);
  if (list.kind !== 'image')
    throw new GraftError(
      'BAD_OPTION',
      `graft extract runs image backbones; '${o.data}' holds texts (graft train extracts text features itself)`,
    );
  emit({ type: 'stage', message: `importing ${o.model}` });
  const backbone = await loadBackbone(o.model);
  const pre = backbone.spec.preprocess;
  if (pre.kind !== 'image') throw new GraftError('BAD_OPTION', `${o.model} is not an image model`);
  const tensors = featureTensorsFor(backbone.spec, o.features).extracted;
  const cacheKey = featureCacheKey(backbone.model, backbone.spec.inputName, pre, tensors);
  const cacheDir = o.cacheDir ?? defaultCacheDir();
  const dir = featureCacheDir(cacheDir);

  emit({ type: 'stage', message: `hashing ${list.entries.length} files` });
  const keyed = await keyInputs(list, o.onBadInput);
  const items = keyed.items;
  const unreadable = [...keyed.unreadable].map(([i, reason]) => ({ id: list.entries[i]!.id, reason }));
  if (unreadable.length > 0)
    emit({
      type: 'warning',
      message: `unreadable files skipped (first: ${unreadable[0]!.reason})`,
      count: unreadable.length,
    });
  const seen = new Set<string>();
  const unique = items.filter((it) => !seen.has(it.key) && seen.add(it.key));
  const parts = splitShards<ShardItem>(unique, o.shardSize);
  const shards: PlannedShard[] = parts.map((part, i) => {
    // The file name depends on the content only; the job also on the cache it writes to.
    const shardName = shardJobId('extract', cacheKey, part);
    const id = `extract-${sha256(`${shardName}\n${cacheDir}`)}`;
    const job: ExtractShardJob = {
      kind: 'extract',
      shard: i,
      shards: parts.length,
      model: o.model,
      tensors,
      cacheKey,
      shardName,
      cacheDir,
      onBadInput: o.onBadInput,
      batchSize: o.batchSize,
      items: part,
    };
    return { id, job, done: shardComplete(dir, cacheKey, shardName) };
  });
  return {
    warnings: list.warnings ?? [],
    tensors,
    cacheKey,
    cacheDir,
    dir,
    inputs: list.entries.length,
    unique: unique.length,
    unreadable,
    shards,
  };
}
