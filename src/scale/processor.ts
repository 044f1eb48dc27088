/**
 * The sandboxed BullMQ processor `graft worker` runs on a worker thread: decoding and ONNX Runtime run here,
 * so the worker's main thread stays free to renew job locks and talk to Redis. Settings come through the
 * thread's environment (see worker.ts).
 */
import type { SandboxedJob } from 'bullmq';
import type { ShardJob, ShardResult } from './jobs.js';
import { jobFailure, ShardRunner } from './shard-runner.js';

const threads = Number(process.env['GRAFT_WORKER_THREADS'] ?? '') || undefined;
const cacheDir = process.env['GRAFT_WORKER_CACHE_DIR'] || undefined;
const runner = new ShardRunner({ threads, cacheDir });

export default async function processShard(job: SandboxedJob<ShardJob, ShardResult>): Promise<ShardResult> {
  try {
    return await runner.run(job.data);
  } catch (e) {
    throw jobFailure(e);
  }
}
