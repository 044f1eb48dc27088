/**
 * Writing checkpoints (the one format of checkpoints.ts) during a fit: `CheckpointWriter` saves a snapshot with
 * its trainer state, tracks the best metric and rotates; the `Checkpoint` callback saves every N optimizer steps
 * and/or at epoch ends, with the best epoch by a metric kept out of rotation.
 */
import { check } from '../../errors.js';
import {
  checkpointPath,
  removeStaleCheckpointTemps,
  rotateCheckpoints,
  writeCheckpoint,
  type LogEntry,
  type RunOptions,
  type TrainerStateJson,
} from '../checkpoints.js';
import type {
  BatchEndEvent,
  Callback,
  EpochEndEvent,
  FitStartEvent,
  TrainerContext,
  TrainingState,
} from '../events.js';

export interface CheckpointWriterOptions {
  /** Where checkpoint-<step>/ directories go. */
  dir: string;
  /** Checkpoints kept (the best is never deleted); undefined keeps all. */
  saveTotalLimit?: number;
  /** The recipe phase this fit is (multi-phase runs); default 0. */
  phase?: number;
  /** Optimizer steps of the phases before this one: checkpoint names count steps over the whole run. */
  stepOffset?: number;
  /** The options the run trains with, recorded for resume checks. */
  run?: RunOptions;
  /** Whether a larger metric is better; default true. */
  greaterIsBetter?: boolean;
  /** Carried over from a resumed checkpoint or an earlier phase: log history and the best so far. */
  previous?: Pick<TrainerStateJson, 'log_history' | 'best_metric' | 'best_model_checkpoint'>;
}

export class CheckpointWriter {
  readonly logHistory: LogEntry[];
  bestMetric: number | undefined;
  bestModelCheckpoint: string | undefined;
  readonly saved: string[] = [];
  private cleaned = false;

  constructor(readonly options: CheckpointWriterOptions) {
    check(
      options.saveTotalLimit === undefined ||
        (Number.isInteger(options.saveTotalLimit) && options.saveTotalLimit >= 1),
      'BAD_OPTION',
      `saveTotalLimit must be ≥ 1, got ${options.saveTotalLimit}`,
    );
    const p = options.previous;
    this.logHistory = [...(p?.log_history ?? [])];
    this.bestMetric = p?.best_metric ?? undefined;
    this.bestModelCheckpoint = p?.best_model_checkpoint ?? undefined;
  }

  /** Global step (over all phases) of a snapshot. */
  globalStep(state: TrainingState): number {
    return (this.options.stepOffset ?? 0) + state.step;
  }

  /**
   * Writes `state` as checkpoint-<global step>; `metric` (when given) competes for best first, so the checkpoint
   * records itself as best when it is. `epoch`: epochs done in this phase (fractional).
   */
  async save(state: TrainingState, epoch: number, metric?: number): Promise<string> {
    const o = this.options;
    if (!this.cleaned) {
      await removeStaleCheckpointTemps(o.dir);
      this.cleaned = true;
    }
    const step = this.globalStep(state);
    const path = checkpointPath(o.dir, step);
    if (metric !== undefined) {
      const greater = o.greaterIsBetter ?? true;
      const b = this.bestMetric;
      if (b === undefined || (greater ? metric > b : metric < b)) {
        this.bestMetric = metric;
        this.bestModelCheckpoint = path;
      }
    }
    await writeCheckpoint(o.dir, state, {
      global_step: step,
      epoch,
      phase: o.phase ?? 0,
      best_metric: this.bestMetric ?? null,
      best_model_checkpoint: this.bestModelCheckpoint ?? null,
      log_history: this.logHistory,
      run: o.run ?? {},
    });
    this.saved.push(path);
    if (o.saveTotalLimit !== undefined)
      await rotateCheckpoints(o.dir, o.saveTotalLimit, this.bestModelCheckpoint);
    return path;
  }
}

export interface CheckpointOptions extends CheckpointWriterOptions {
  /** Save after every N optimizer steps. */
  everySteps?: number;
  /** Save at the end of every epoch. Default true unless everySteps is given. */
  everyEpoch?: boolean;
  /** The best epoch by this metric (saved at epoch ends) is kept out of rotation. */
  best?: { monitor: string; mode?: 'min' | 'max' };
}

export class Checkpoint implements Callback {
  readonly writer: CheckpointWriter;
  private readonly everyEpoch: boolean;
  private stepsPerEpoch = 1;

  constructor(private readonly o: CheckpointOptions) {
    const mode = o.best ? (o.best.mode ?? (o.best.monitor.endsWith('loss') ? 'min' : 'max')) : 'max';
    this.writer = new CheckpointWriter({ ...o, greaterIsBetter: mode === 'max' });
    this.everyEpoch = o.everyEpoch ?? o.everySteps === undefined;
    check(
      o.everySteps === undefined || (Number.isInteger(o.everySteps) && o.everySteps >= 1),
      'BAD_OPTION',
      `everySteps must be ≥ 1, got ${o.everySteps}`,
    );
    check(
      !o.best || this.everyEpoch,
      'BAD_OPTION',
      'the best checkpoint is chosen at epoch ends: give everyEpoch: true with best',
    );
  }

  get saved(): readonly string[] {
    return this.writer.saved;
  }

  fitStart(e: FitStartEvent): void {
    this.stepsPerEpoch = e.stepsPerEpoch;
  }

  async batchEnd(e: BatchEndEvent, ctx: TrainerContext): Promise<void> {
    if (e.stepped && this.o.everySteps && e.step % this.o.everySteps === 0) {
      const state = ctx.snapshot();
      await this.writer.save(state, state.step / this.stepsPerEpoch);
    }
  }

  async epochEnd(e: EpochEndEvent, ctx: TrainerContext): Promise<void> {
    const best = this.o.best;
    const metric = best ? e.metrics[best.monitor] : undefined;
    check(
      !best || metric !== undefined,
      'BAD_OPTION',
      `checkpoint monitors '${best?.monitor}', which epochs do not report`,
    );
    const state = ctx.snapshot();
    // the epoch's metrics join log_history (Hugging Face's trainer_state.json keeps them there too)
    this.writer.logHistory.push({ ...e.metrics, epoch: state.epoch, step: this.writer.globalStep(state) });
    if (this.everyEpoch) await this.writer.save(state, state.epoch, metric);
  }
}
