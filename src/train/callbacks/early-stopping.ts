/** Stops training when a monitored metric has not improved for `patience` epochs; can restore the best params. */
import { check } from '../../errors.js';
import type { Callback, EpochEndEvent, FitEndEvent, TrainerContext } from '../events.js';

export interface EarlyStoppingOptions {
  /** A metric of epochEnd: 'val_loss', 'val_accuracy', 'train_loss', … Default 'val_loss'. */
  monitor?: string;
  /** Default: 'min' for names ending in 'loss', else 'max'. */
  mode?: 'min' | 'max';
  /** Epochs without improvement before stopping. Default 3. */
  patience?: number;
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** At the end, copy the best epoch's params back into the model. Default true. */
  restoreBest?: boolean;
}

export class EarlyStopping implements Callback {
  readonly monitor: string;
  readonly mode: 'min' | 'max';
  private readonly patience: number;
  private readonly minDelta: number;
  private readonly restoreBest: boolean;
  best: number | undefined;
  bestEpoch: number | undefined;
  stoppedEpoch: number | undefined;
  private wait = 0;
  private bestParams: Map<string, Float32Array> | undefined;

  constructor(options: EarlyStoppingOptions = {}) {
    this.monitor = options.monitor ?? 'val_loss';
    this.mode = options.mode ?? (this.monitor.endsWith('loss') ? 'min' : 'max');
    this.patience = options.patience ?? 3;
    this.minDelta = Math.abs(options.minDelta ?? 0);
    this.restoreBest = options.restoreBest ?? true;
    check(this.patience >= 0, 'BAD_OPTION', `patience must be ≥ 0, got ${this.patience}`);
  }

  private improved(v: number): boolean {
    if (this.best === undefined) return true;
    return this.mode === 'min' ? v < this.best - this.minDelta : v > this.best + this.minDelta;
  }

  epochEnd(e: EpochEndEvent, ctx: TrainerContext): void {
    const v = e.metrics[this.monitor];
    check(
      v !== undefined,
      'BAD_OPTION',
      `early stopping monitors '${this.monitor}', but epochs report only ${Object.keys(e.metrics).join(', ')}`,
    );
    if (Number.isNaN(v)) return;
    if (this.improved(v)) {
      this.best = v;
      this.bestEpoch = e.epoch;
      this.wait = 0;
      if (this.restoreBest) this.bestParams = new Map([...ctx.model.params].map(([k, p]) => [k, p.slice()]));
    } else if (++this.wait > this.patience) {
      this.stoppedEpoch = e.epoch;
      ctx.stop('early_stopping');
    }
  }

  fitEnd(_e: FitEndEvent, ctx: TrainerContext): void {
    if (!this.restoreBest || !this.bestParams) return;
    for (const [k, v] of this.bestParams) ctx.model.params.get(k)?.set(v);
  }
}
