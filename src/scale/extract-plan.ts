/**
 * Planning an extraction: read and hash the inputs, drop repeated contents, and cut them into shards whose
 * file names and job ids are content hashes; shards whose files already exist are marked done.
 */
import type { DataWarning } from '../data/types.js';
import { GraftError } from '../errors.js';
import { sha256, shardComplete } from '../features/cache.js';
import { defaultCacheDir, featureCacheDir, featureCacheKey } from '../features/extract.js';
import { int8FeatureKey, int8Prefix, int8PrefixFile } from '../features/int8-prefix.js';
import { buildPooledPrefix } from '../features/pooled-prefix.js';
import { featureTensorsFor } from '../features/tensors.js';
import type { ImagePreprocess } from '../models/spec.js';
import type { Model } from '../onnx/ir.js';
import { batchShape } from '../preprocess/image.js';
import { loadBackbone } from '../models/registry.js';
import type { PlannedShard } from './backend.js';
import { keyInputs, readExtractInputs } from './inputs.js';
import { shardJobId, splitShards, type ExtractShardJob, type ShardItem } from './jobs.js';
import type { ExtractRunOptions, ScaleEvent } from './options.js';

export interface ExtractPlan {
  tensors: string[];
  cacheKey: string;
  cacheDir: string;
  /** The int8 prefix the shards run (under cacheDir), when extracting int8 features. */
  int8?: { file: string; sha256: string };
  /** The features folder under cacheDir. */
  dir: string;
  inputs: number;
  unique: number;
  unreadable: { id: string; reason: string }[];
  /** What the data set's loader left out before hashing. */
  warnings: readonly DataWarning[];
  shards: PlannedShard[];
}

/**
 * The int8 prefix every shard runs: calibrated here on the inputs with the smallest content hashes (the same
 * sample whatever order the data lists them in), or found in the cache from an earlier run, and kept in the
 * shared cache for the shards to read.
 */
async function planInt8(
  o: ExtractRunOptions,
  backbone: Model,
  inputName: string,
  pre: ImagePreprocess,
  tensors: readonly string[],
  floatKey: string,
  unique: readonly ShardItem[],
  emit: (e: ScaleEvent) => void,
): Promise<{ id: string; sha256: string }> {
  const sample = [...unique]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, o.calibrationExamples ?? 256)
    .map((it) => ({ id: it.id, label: 0, source: it.source }));
  emit({ type: 'stage', message: `int8: the backbone prefix, calibrated on ${sample.length} of the inputs` });
  const session = o.threads ? { threads: o.threads } : undefined;
  const prefix = await buildPooledPrefix(backbone, inputName, tensors, batchShape(1, pre), session);
  const cacheDir = o.cacheDir ?? defaultCacheDir();
  const q = await int8Prefix(
    prefix.model,
    inputName,
    pre,
    floatKey,
    { calibration: sample },
    cacheDir,
    session,
  );
  emit({
    type: 'stage',
    message: `int8: ${q.built ? 'calibrated and cached' : 'found in the cache'}: ${int8PrefixFile(cacheDir, q.id!)}`,
  });
  return { id: q.id!, sha256: q.sha256 };
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
  const floatKey = featureCacheKey(backbone.model, backbone.spec.inputName, pre, tensors);
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
  const int8 = o.int8
    ? await planInt8(o, backbone.model, backbone.spec.inputName, pre, tensors, floatKey, unique, emit)
    : undefined;
  const cacheKey = int8 ? int8FeatureKey(floatKey, int8.sha256) : floatKey;
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
      ...(int8 ? { int8 } : {}),
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
    ...(int8 ? { int8: { file: int8PrefixFile(cacheDir, int8.id), sha256: int8.sha256 } } : {}),
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
