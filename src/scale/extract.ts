/**
 * `graft extract`: features for every input into the (shared) content-addressed cache, split into shards
 * that run on this machine or on `graft worker`s through a queue. Shards whose files already exist are not
 * submitted, and job ids are content hashes, so running the same command again resumes where it stopped.
 */
import type { DataWarning } from '../data/types.js';
import { GraftError } from '../errors.js';
import { shardComplete } from '../features/cache.js';
import type { ShardBackend, ShardFailure } from './backend.js';
import { planExtraction } from './extract-plan.js';
import { LocalBackend } from './local-backend.js';
import { resolveExtractOptions, type ExtractRunOptions } from './options.js';
import { QueueBackend } from './queue-backend.js';
import { parseFailure } from './shard-runner.js';

export interface ExtractRunResult {
  model: string;
  tensors: string[];
  cacheDir: string;
  cacheKey: string;
  /** The int8 prefix that extracted the features (`--int8`): its file in the cache and sha256. */
  int8?: { file: string; sha256: string };
  /** Inputs listed, distinct contents among them, shards, and shards already complete before this run. */
  inputs: number;
  unique: number;
  shards: number;
  alreadyDone: number;
  /** Rows written by this run. */
  extracted: number;
  skipped: { id: string; reason: string }[];
  /** Inputs the data set's loader left out before extraction (unusable files or rows). */
  warnings: DataWarning[];
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
  const { tensors, cacheKey, cacheDir, dir, shards, unreadable, warnings, int8, ...plan } =
    await planExtraction(o, emit);
  const alreadyDone = shards.filter((s) => s.done).length;
  emit({
    type: 'stage',
    message:
      `${plan.unique} distinct inputs in ${shards.length} shards (${alreadyDone} already done), ` +
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
      ...(int8 ? { int8 } : {}),
      inputs: plan.inputs,
      unique: plan.unique,
      shards: shards.length,
      alreadyDone,
      extracted,
      skipped,
      warnings: [...warnings],
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await backend.close();
  }
}
