/** What `fit` returns: one record per finished epoch. */
import type { StopReason } from './events.js';

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  valLoss?: number;
  metrics: Record<string, number>;
  /** Optimizer steps done at the end of this epoch. */
  step: number;
}

export interface History {
  epochs: EpochRecord[];
  stopReason?: StopReason;
}

export function emptyHistory(): History {
  return { epochs: [] };
}

/** The values of one metric over the epochs (undefined where it was not recorded). */
export function metricSeries(history: History, name: string): (number | undefined)[] {
  return history.epochs.map((e) => e.metrics[name]);
}
