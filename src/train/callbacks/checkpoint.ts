/** Writes checkpoints every N optimizer steps and/or at epoch ends, keeps the last K, and the best by a metric. */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { check } from '../../errors.js';
import { listStepCheckpoints, saveCheckpoint, stepCheckpointName } from '../checkpoint-io.js';
import type { BatchEndEvent, Callback, EpochEndEvent, TrainerContext } from '../events.js';

export interface CheckpointOptions {
  dir: string;
  /** Save after every N optimizer steps. */
  everySteps?: number;
  /** Save at the end of every epoch. Default true unless everySteps is given. */
  everyEpoch?: boolean;
  /** Step checkpoints to keep; the oldest are deleted. Default 3. */
  keepLast?: number;
  /** Also keep `best.ckpt`, the state at the best epoch by this metric. */
  best?: { monitor: string; mode?: 'min' | 'max' };
}

export class Checkpoint implements Callback {
  private readonly o: Required<Omit<CheckpointOptions, 'best' | 'everySteps'>> &
    Pick<CheckpointOptions, 'best' | 'everySteps'>;
  private bestValue: number | undefined;
  readonly saved: string[] = [];

  constructor(options: CheckpointOptions) {
    this.o = { everyEpoch: options.everySteps === undefined, keepLast: 3, ...options };
    check(this.o.keepLast >= 1, 'BAD_OPTION', `keepLast must be ≥ 1, got ${this.o.keepLast}`);
    check(
      this.o.everySteps === undefined || this.o.everySteps >= 1,
      'BAD_OPTION',
      `everySteps must be ≥ 1, got ${this.o.everySteps}`,
    );
  }

  get bestPath(): string {
    return join(this.o.dir, 'best.ckpt');
  }

  async batchEnd(e: BatchEndEvent, ctx: TrainerContext): Promise<void> {
    if (e.stepped && this.o.everySteps && e.step % this.o.everySteps === 0) await this.saveStep(ctx);
  }

  async epochEnd(e: EpochEndEvent, ctx: TrainerContext): Promise<void> {
    if (this.o.everyEpoch) await this.saveStep(ctx);
    const best = this.o.best;
    if (!best) return;
    const v = e.metrics[best.monitor];
    check(v !== undefined, 'BAD_OPTION', `checkpoint monitors '${best.monitor}', which epochs do not report`);
    const mode = best.mode ?? (best.monitor.endsWith('loss') ? 'min' : 'max');
    if (this.bestValue === undefined || (mode === 'min' ? v < this.bestValue : v > this.bestValue)) {
      this.bestValue = v;
      await saveCheckpoint(this.bestPath, ctx.snapshot());
    }
  }

  private async saveStep(ctx: TrainerContext): Promise<void> {
    const state = ctx.snapshot();
    const path = join(this.o.dir, stepCheckpointName(state.step));
    await saveCheckpoint(path, state);
    this.saved.push(path);
    const all = await listStepCheckpoints(this.o.dir);
    for (const old of all.slice(0, Math.max(0, all.length - this.o.keepLast)))
      await rm(old.path, { force: true });
  }
}
