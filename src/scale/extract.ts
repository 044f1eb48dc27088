/**
 * `graft extract`: features for every input into the (shared) content-addressed cache, split into shards
 * that run on this machine or on `graft worker`s through a queue. Shards whose files already exist are not
 * submitted, and job ids are content hashes, so running the same command again resumes where it stopped.
 */
import { GraftError } from '../errors.js';
import { sha256, shardComplete } from '../features/cache.js';
import { defaultCacheDir, featureCacheDir, featureCacheKey } from '../features/extract.js';
import { featureTensorsFor } from '../features/tensors.js';
import { loadBackbone } from '../models/registry.js';
import type { PlannedShard, ShardBackend, ShardFailure } from './backend.js';
import { keyInputs, readExtractInputs } from './inputs.js';
import { shardJobId, splitShards, type ExtractShardJob, type ShardItem } from './jobs.js';
import { LocalBackend } from './local-backend.js';
import { resolveExtractOptions, type ExtractRunOptions } from './options.js';
import { QueueBackend } from './queue-backend.js';
import { parseFailure } from './shard-runner.js';

export interface ExtractRunResult {
  model: string;
  tensors: string[];
  cacheDir: string;
  cacheKey: string;
  /** Inputs listed, distinct contents among them, shards, and shards already complete before this run. */
  inputs: number;
  unique: number;
  shards: number;
  alreadyDone: number;
  /** Rows written by this run. */
  extracted: number;
  skipped: { id: string; reason: string }[];
  seconds: number;
}

export async function openBackend(
  o: Pick<ExtractRunOptions, 'queue' | 'threads' | 'attempts' | 'signal'>,
): Promise<ShardBackend> {
  return o.queue
    ? QueueBackend.connect(o.queue, { attempts: o.attempts, signal: o.signal })
    : new LocalBackend({ threads: o.threads }, o.signal);
}

/** One GraftError for the shards that failed for good: the first one's code, each shard's reason. */
export function failuresError(failures: readonly ShardFailure[]): GraftError {
  const first = parseFailure(failures[0]!.reason);
  const lines = failures.slice(0, 5).map((f) => {
    const job = f.shard.job;
    const first = job.items[0]?.id ?? '';
    return `shard ${job.shard + 1}/${job.shards} (from '${first}', ${job.items.length} inputs) failed after ${f.attempts} attempt(s): ${f.reason}`;
  });
  const more = failures.length > 5 ? `\n… and ${failures.length - 5} more` : '';
  return new GraftError(first.code, `${failures.length} shard(s) failed:\n${lines.join('\n')}${more}`, {
    failed: failures.map((f) => ({ id: f.shard.id, shard: f.shard.job.shard, reason: f.reason })),
  });
}

export async function extractFeatures(
  input: Partial<ExtractRunOptions> & Pick<ExtractRunOptions, 'data'>,
): Promise<ExtractRunResult> {
  const o = resolveExtractOptions(input);
  const t0 = performance.now();
  const emit = o.onEvent ?? (() => {});
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
  const tensors = featureTensorsFor(backbone.spec, o.features);
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
  const alreadyDone = shards.filter((s) => s.done).length;
  emit({
    type: 'stage',
    message:
      `${unique.length} distinct inputs in ${shards.length} shards (${alreadyDone} already done), ` +
      (o.queue ? `on the queue` : `on this machine`),
  });
  const backend = await openBackend(o);
  try {
    const failures = await backend.run(shards, (progress) => emit({ type: 'shards', progress }));
    if (failures.length > 0) throw failuresError(failures);
    const unseen = shards.filter(
      (s) => s.job.kind === 'extract' && !shardComplete(dir, cacheKey, s.job.shardName),
    );
    if (unseen.length > 0)
      throw new GraftError(
        'IO_ERROR',
        `${unseen.length} shard(s) completed but their files are not in ${dir}: mount the shared cache at the ` +
          `same path on every machine, or give the workers --cache-dir where they mount it`,
        { dir },
      );
    let extracted = 0;
    const skipped = [...unreadable];
    for (const s of shards) {
      const r = s.done ? undefined : await backend.result(s.id);
      if (r?.kind !== 'extract') continue;
      extracted += r.rows;
      skipped.push(...r.skipped);
    }
    if (skipped.length > unreadable.length)
      emit({
        type: 'warning',
        message: `inputs that could not be decoded were skipped`,
        count: skipped.length - unreadable.length,
      });
    return {
      model: o.model,
      tensors,
      cacheDir,
      cacheKey,
      inputs: list.entries.length,
      unique: unique.length,
      shards: shards.length,
      alreadyDone,
      extracted,
      skipped,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await backend.close();
  }
}
