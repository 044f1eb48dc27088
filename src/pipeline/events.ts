/** What a training run reports while it works; the CLI turns these into progress bars and tables. */
import type { DataWarning } from '../data/types.js';
import type { ExtractProgress } from '../features/extract.js';
import type { CandidateScore } from '../strategies/auto-select.js';

export type Stage =
  'load' | 'backbone' | 'extract' | 'select' | 'train' | 'evaluate' | 'baseline' | 'export' | 'quantize';

export type TrainEvent =
  | { type: 'stage'; stage: Stage; message: string }
  | { type: 'data'; labels: string[]; counts: { train: number; validation: number; test: number } }
  | { type: 'warning'; warning: DataWarning }
  | { type: 'extract'; progress: ExtractProgress }
  | { type: 'candidate'; score: CandidateScore }
  | { type: 'epoch'; epoch: number; trainLoss: number; valLoss?: number; valAccuracy?: number };

/** The progress event of a finished epoch (a Trainer epoch record). */
export function epochEvent(e: {
  epoch: number;
  trainLoss: number;
  valLoss?: number;
  metrics: Record<string, number>;
}): TrainEvent {
  return {
    type: 'epoch',
    epoch: e.epoch,
    trainLoss: e.trainLoss,
    valLoss: e.valLoss,
    valAccuracy: e.metrics['val_accuracy'],
  };
}
