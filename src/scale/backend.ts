/** Where shards run: on this machine one after another, or on a BullMQ queue served by `graft worker`s. */
import type { ShardJob, ShardResult } from './jobs.js';

export interface PlannedShard {
  /** The job id (see shardJobId). */
  readonly id: string;
  readonly job: ShardJob;
  /** Already complete where the coordinator can see it (an extraction's shard file exists): not submitted. */
  readonly done: boolean;
}

export interface ShardProgress {
  readonly total: number;
  readonly done: number;
  readonly running: number;
  readonly failed: number;
}

export interface ShardFailure {
  readonly shard: PlannedShard;
  /** "[CODE] message" as the worker reported it after its last attempt. */
  readonly reason: string;
  readonly attempts: number;
}

export interface ShardBackend {
  /** Runs every shard that is not done; resolves with the failures (empty when all succeeded). */
  run(shards: readonly PlannedShard[], onProgress?: (p: ShardProgress) => void): Promise<ShardFailure[]>;
  /** A finished shard's result (undefined for shards that were already done before the run). */
  result(id: string): Promise<ShardResult | undefined>;
  close(): Promise<void>;
}
