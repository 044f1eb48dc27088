/** Shards on this machine, one after another, through the same runner a worker uses. */
import type { PlannedShard, ShardBackend, ShardFailure, ShardProgress } from './backend.js';
import type { ShardResult } from './jobs.js';
import { jobFailure, ShardRunner } from './shard-runner.js';
import type { EngineOptions } from './extract-shard.js';
import { GraftError } from '../errors.js';

export class LocalBackend implements ShardBackend {
  private readonly runner: ShardRunner;
  private readonly results = new Map<string, ShardResult>();

  constructor(
    options: EngineOptions = {},
    private readonly signal?: AbortSignal,
  ) {
    this.runner = new ShardRunner(options);
  }

  async run(
    shards: readonly PlannedShard[],
    onProgress?: (p: ShardProgress) => void,
  ): Promise<ShardFailure[]> {
    let done = shards.filter((s) => s.done).length;
    const failures: ShardFailure[] = [];
    const report = (running: number) =>
      onProgress?.({ total: shards.length, done, running, failed: failures.length });
    report(0);
    for (const shard of shards) {
      if (shard.done) continue;
      if (this.signal?.aborted) throw new GraftError('CANCELLED', 'cancelled');
      report(1);
      try {
        this.results.set(shard.id, await this.runner.run(shard.job));
        done++;
      } catch (e) {
        failures.push({ shard, reason: jobFailure(e).message, attempts: 1 });
      }
      report(0);
    }
    return failures;
  }

  async result(id: string): Promise<ShardResult | undefined> {
    return this.results.get(id);
  }

  close(): Promise<void> {
    return this.runner.release();
  }
}
