/**
 * Batch prediction over a manifest, sharded like extraction: each shard's predictions come back as its job's
 * result, and once every shard is done they are written to predictions.jsonl in input order, in one atomic
 * rename, so the file holds each input exactly once however many times a shard ran.
 */
import { open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { GraftError } from '../errors.js';
import { readManifest } from '../export/manifest.js';
import { sha256 } from '../features/cache.js';
import type { PlannedShard } from './backend.js';
import { failuresError, openBackend } from './extract.js';
import { keyInputs, readManifestInputs } from './inputs.js';
import { shardJobId, splitShards, type PredictionRow, type PredictShardJob, type ShardItem } from './jobs.js';
import { resolvePredictOptions, type PredictRunOptions } from './options.js';
import { modelDirHash } from './predict-shard.js';

export interface PredictRunResult {
  out: string;
  /** Rows written (one per input), and how many of them carry an error instead of a prediction. */
  rows: number;
  errors: number;
  shards: number;
  seconds: number;
}

export async function predictManifest(
  input: Partial<PredictRunOptions> & Pick<PredictRunOptions, 'modelDir' | 'manifest'>,
): Promise<PredictRunResult> {
  const o = resolvePredictOptions(input);
  const t0 = performance.now();
  const emit = o.onEvent ?? (() => {});
  const manifest = await readManifest(o.modelDir);
  const list = await readManifestInputs(o.manifest);
  if (list.kind !== manifest.preprocess.kind)
    throw new GraftError(
      'BAD_INPUT',
      `'${o.manifest}' lists ${list.kind === 'image' ? 'image paths' : 'texts'} but '${o.modelDir}' is a ` +
        `${manifest.preprocess.kind} model`,
    );
  const modelHash = await modelDirHash(o.modelDir);
  emit({ type: 'stage', message: `hashing ${list.entries.length} inputs` });
  const { items, entryIndex, unreadable } = await keyInputs(list, o.onBadInput);
  const scope = sha256([modelHash, o.topK, o.onBadInput, o.batchSize].join('\n'));
  const parts = splitShards<ShardItem>(items, o.shardSize);
  const shards: PlannedShard[] = parts.map((part, i) => {
    const job: PredictShardJob = {
      kind: 'predict',
      shard: i,
      shards: parts.length,
      modelDir: o.modelDir,
      modelHash,
      topK: o.topK,
      onBadInput: o.onBadInput,
      batchSize: o.batchSize,
      items: part,
    };
    return { id: shardJobId('predict', scope, part), job, done: false };
  });
  emit({
    type: 'stage',
    message: `${items.length} inputs in ${shards.length} shards, ${o.queue ? 'on the queue' : 'on this machine'}`,
  });
  const backend = await openBackend(o);
  try {
    const failures = await backend.run(shards, (progress) => emit({ type: 'shards', progress }));
    if (failures.length > 0) throw failuresError(failures);
    const tmp = join(
      dirname(o.out),
      `.${basename(o.out)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
    );
    const fh = await open(tmp, 'w');
    let errors = 0;
    try {
      // Rows go out in input order; unreadable files keep their place, as error rows.
      let next = 0;
      let position = 0;
      const lines: string[] = [];
      const errorsUntil = (end: number) => {
        for (; next < end; next++, errors++)
          lines.push(JSON.stringify({ input: list.entries[next]!.id, error: unreadable.get(next) }));
      };
      for (const shard of shards) {
        const result = await backend.result(shard.id);
        if (result?.kind !== 'predict' || result.rows.length !== shard.job.items.length)
          throw new GraftError(
            'RUNTIME_ERROR',
            `shard ${shard.job.shard + 1} has no result; run the command again`,
          );
        shard.job.items.forEach((item, i) => {
          errorsUntil(entryIndex[position]!);
          const row: PredictionRow = { ...result.rows[i]!, input: item.id };
          if ('error' in row) errors++;
          lines.push(JSON.stringify(row));
          next = entryIndex[position++]! + 1;
        });
        await fh.write(`${lines.join('\n')}\n`);
        lines.length = 0;
      }
      errorsUntil(list.entries.length);
      if (lines.length > 0) await fh.write(`${lines.join('\n')}\n`);
      await fh.sync();
    } catch (e) {
      await fh.close();
      await rm(tmp, { force: true });
      throw e;
    }
    await fh.close();
    await rename(tmp, o.out);
    return {
      out: o.out,
      rows: list.entries.length,
      errors,
      shards: shards.length,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await backend.close();
  }
}
