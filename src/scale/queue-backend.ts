/**
 * The coordinator's side of the queue: add one BullMQ job per shard (ids are content hashes, so a job that
 * already exists, waiting, running or completed, is not added again), retry shards that failed in an earlier
 * run, and poll the jobs' states until every shard has completed or failed for good. A job that vanished
 * (removed by age, or lost by a Redis without persistence) is added again.
 */
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { GraftError } from '../errors.js';
import type { PlannedShard, ShardBackend, ShardFailure, ShardProgress } from './backend.js';
import type { ShardJob, ShardResult } from './jobs.js';
import { checkRedis, describeUrl, openRedis, QUEUE_NAME } from './redis.js';

export interface QueueBackendOptions {
  /** Attempts per shard before it counts as failed (default 3), with exponential back-off from 1 s. */
  attempts?: number;
  /** How often job states are polled (default 500 ms). */
  pollMs?: number;
  /** How long Redis may stay unreachable during a run before it ends with NETWORK_ERROR (default 300 s). */
  unreachableMs?: number;
  signal?: AbortSignal;
}

const WEEK_S = 7 * 24 * 3600;

export class QueueBackend implements ShardBackend {
  private constructor(
    private readonly url: string,
    private readonly redis: Redis,
    private readonly queue: Queue<ShardJob, ShardResult>,
    private readonly options: QueueBackendOptions,
  ) {}

  static async connect(url: string, options: QueueBackendOptions = {}): Promise<QueueBackend> {
    await checkRedis(url);
    const redis = openRedis(url);
    const queue = new Queue<ShardJob, ShardResult>(QUEUE_NAME, { connection: redis });
    queue.on('error', () => undefined); // connection errors surface as stalled polls (see within)
    return new QueueBackend(url, redis, queue, options);
  }

  private jobOptions(id: string): JobsOptions {
    return {
      jobId: id,
      attempts: this.options.attempts ?? 3,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: WEEK_S },
      removeOnFail: { age: WEEK_S },
    };
  }

  async run(
    shards: readonly PlannedShard[],
    onProgress?: (p: ShardProgress) => void,
  ): Promise<ShardFailure[]> {
    const pending = new Map(shards.filter((s) => !s.done).map((s) => [s.id, s]));
    let done = shards.length - pending.size;
    const failures: ShardFailure[] = [];
    let lastOk = Date.now();
    // Submit: failed shards of an earlier run are retried, missing ones added; the rest are left as they are.
    const states = await this.within(() => this.states([...pending.keys()]), lastOk);
    const add = [...pending.values()].filter((s) => states.get(s.id) === 'unknown');
    await this.within(() => this.add(add), lastOk);
    for (const [id, state] of states) {
      if (state === 'failed') await this.within(() => this.retry(id), lastOk);
    }
    lastOk = Date.now();
    const poll = this.options.pollMs ?? 500;
    for (;;) {
      if (this.options.signal?.aborted)
        throw new GraftError('CANCELLED', 'cancelled; the shards keep running, and a rerun resumes');
      const now = await this.within(() => this.states([...pending.keys()]), lastOk);
      lastOk = Date.now();
      let running = 0;
      const lost: PlannedShard[] = [];
      for (const [id, state] of now) {
        const shard = pending.get(id)!;
        if (state === 'completed') {
          pending.delete(id);
          done++;
        } else if (state === 'failed') {
          pending.delete(id);
          const job = await this.queue.getJob(id);
          failures.push({ shard, reason: job?.failedReason ?? 'failed', attempts: job?.attemptsMade ?? 0 });
        } else if (state === 'active') running++;
        else if (state === 'unknown') lost.push(shard);
      }
      if (lost.length > 0) await this.within(() => this.add(lost), lastOk);
      onProgress?.({ total: shards.length, done, running, failed: failures.length });
      if (pending.size === 0) return failures;
      await new Promise((r) => setTimeout(r, poll));
    }
  }

  async result(id: string): Promise<ShardResult | undefined> {
    const job = await this.queue.getJob(id);
    return job?.returnvalue ?? undefined;
  }

  private async states(ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < ids.length; i += 256) {
      const part = ids.slice(i, i + 256);
      const states = await Promise.all(part.map((id) => this.queue.getJobState(id)));
      part.forEach((id, j) => out.set(id, states[j]!));
    }
    return out;
  }

  private async add(shards: readonly PlannedShard[]): Promise<void> {
    for (let i = 0; i < shards.length; i += 256) {
      await this.queue.addBulk(
        shards.slice(i, i + 256).map((s) => ({ name: s.job.kind, data: s.job, opts: this.jobOptions(s.id) })),
      );
    }
  }

  private async retry(id: string): Promise<void> {
    const job = await this.queue.getJob(id);
    await job?.retry('failed', { resetAttemptsMade: true });
  }

  /** Runs a Redis step, or ends the run with NETWORK_ERROR when Redis has been away too long. */
  private async within<T>(step: () => Promise<T>, lastOk: number): Promise<T> {
    const limit = this.options.unreachableMs ?? 300_000;
    const left = Math.max(1000, limit - (Date.now() - lastOk));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new GraftError(
              'NETWORK_ERROR',
              `Redis at ${describeUrl(this.url)} has been unreachable for ${Math.round(limit / 1000)} s; ` +
                `the shards done so far are kept, and running the same command again resumes`,
              { url: describeUrl(this.url) },
            ),
          ),
        left,
      );
    });
    try {
      return await Promise.race([step(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.redis.disconnect();
  }
}
