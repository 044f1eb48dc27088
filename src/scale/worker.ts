/**
 * `graft worker`: a BullMQ worker whose processor is sandboxed on a worker thread (processor.ts). The thread
 * keeps the model loaded between shards; this thread only talks to Redis and renews job locks, so a long
 * forward pass never lets a lock expire. A killed worker's shard is re-run elsewhere once its lock lapses
 * (BullMQ's stalled-job check); shard writes are atomic and idempotent, so the re-run changes nothing.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'bullmq';
import { fileURLToPath } from 'node:url';
import { GraftError } from '../errors.js';
import type { ShardJob, ShardResult } from './jobs.js';
import { checkRedis, describeUrl, openRedis, QUEUE_NAME } from './redis.js';

export interface WorkerServiceOptions {
  queue: string;
  /** Shards processed at once, each on its own thread with its own model copy (default 1). */
  concurrency?: number;
  /** ONNX Runtime intra-op threads per shard (default: ONNX Runtime's, one per core). */
  threads?: number;
  /** Where this machine mounts the shared cache, when not at the path the coordinator uses. */
  cacheDir?: string;
  /** How long a shard's lock lasts without renewal (default 30 s); a dead worker's shard is re-run after it. */
  lockDuration?: number;
  onEvent?: (e: WorkerEvent) => void;
}

export type WorkerEvent =
  | { type: 'ready'; queue: string }
  | { type: 'active'; job: string; shard: number; shards: number; kind: string }
  | { type: 'completed'; job: string; shard: number; rows: number }
  | { type: 'failed'; job: string; shard: number; attempt: number; reason: string }
  | { type: 'stalled'; job: string }
  | { type: 'error'; message: string };

/**
 * The processor module: compiled JavaScript beside this file (dist), or, when graft runs from its TypeScript
 * sources (tests, benches; tsx), a small module in a temporary folder that registers tsx in the thread (worker
 * threads do not inherit it) and re-exports the .ts processor.
 */
function processorFile(): { file: string; cleanup: () => void } {
  const js = fileURLToPath(new URL('./processor.js', import.meta.url));
  if (!import.meta.url.endsWith('.ts') && existsSync(js)) return { file: js, cleanup: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'graft-worker-'));
  const file = join(dir, 'processor.mjs');
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL('./processor.ts', import.meta.url).href);
  writeFileSync(
    file,
    `const tsx = await import(${tsx});\ntsx.register();\nconst m = await import(${entry});\nexport default m.default;\n`,
  );
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RunningWorker {
  /** Finishes the shards in hand, then stops (what SIGTERM does). */
  close(): Promise<void>;
  /** Resolves when the worker has stopped. */
  readonly closed: Promise<void>;
}

export async function startWorker(o: WorkerServiceOptions): Promise<RunningWorker> {
  await checkRedis(o.queue);
  const emit = o.onEvent ?? (() => {});
  let lastError = '';
  const connection = openRedis(o.queue, (e) => {
    if (e.message !== lastError) emit({ type: 'error', message: `${describeUrl(o.queue)}: ${e.message}` });
    lastError = e.message;
  });
  connection.on('ready', () => (lastError = ''));
  const lockDuration = o.lockDuration ?? 30_000;
  if (lockDuration < 1000)
    throw new GraftError('BAD_OPTION', `--lock-duration must be at least 1000 ms, got ${lockDuration}`);
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  if (o.threads) env['GRAFT_WORKER_THREADS'] = String(o.threads);
  if (o.cacheDir) env['GRAFT_WORKER_CACHE_DIR'] = o.cacheDir;
  const processor = processorFile();
  const worker = new Worker<ShardJob, ShardResult>(QUEUE_NAME, processor.file, {
    connection,
    concurrency: o.concurrency ?? 1,
    useWorkerThreads: true,
    workerThreadsOptions: { env },
    lockDuration,
    stalledInterval: Math.min(30_000, lockDuration),
    maxStalledCount: 3,
    removeOnComplete: { age: 7 * 24 * 3600 },
    removeOnFail: { age: 7 * 24 * 3600 },
  });
  worker.on('active', (job) =>
    emit({
      type: 'active',
      job: job.id!,
      shard: job.data.shard,
      shards: job.data.shards,
      kind: job.data.kind,
    }),
  );
  worker.on('completed', (job, result) =>
    emit({
      type: 'completed',
      job: job.id!,
      shard: job.data.shard,
      rows: result.kind === 'extract' ? result.rows : result.rows.length,
    }),
  );
  worker.on('failed', (job, error) =>
    emit({
      type: 'failed',
      job: job?.id ?? '?',
      shard: job?.data.shard ?? -1,
      attempt: job?.attemptsMade ?? 0,
      reason: error.message,
    }),
  );
  worker.on('stalled', (job) => emit({ type: 'stalled', job }));
  worker.on('error', (e) => {
    if (e.message !== lastError) emit({ type: 'error', message: e.message });
    lastError = e.message;
  });
  await worker.waitUntilReady();
  emit({ type: 'ready', queue: describeUrl(o.queue) });
  let resolveClosed: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  return {
    closed,
    close: async () => {
      await worker.close();
      connection.disconnect();
      processor.cleanup();
      resolveClosed();
    },
  };
}
