/** Trainer events, callback objects and the context callbacks act through. */
import type { Optimizer, OptimizerState } from './optimizers/index.js';
import type { History } from './history.js';
import type { TrainableModel } from './types.js';
import type { Rng } from './random.js';

export interface FitStartEvent {
  epochs: number;
  stepsPerEpoch: number;
  totalSteps: number;
  trainSize: number;
  batchSize: number;
  /** Set when the run continues from a checkpoint. */
  resumedAt?: { epoch: number; step: number };
}
export interface EpochStartEvent {
  epoch: number;
  /** Micro-batches skipped because a resumed run had already consumed them. */
  skippedBatches: number;
}
export interface BatchEndEvent {
  epoch: number;
  /** Micro-batch index within the epoch. */
  batch: number;
  /** Optimizer steps done so far. */
  step: number;
  /** True when this batch completed an optimizer step (always, without gradient accumulation). */
  stepped: boolean;
  loss: number;
  lr: number;
  samples: number;
  /** Samples seen in this epoch so far. */
  epochSamples: number;
  gradNorm?: number;
}
export interface ValidateEvent {
  epoch: number;
  metrics: Record<string, number>;
}
export interface EpochEndEvent {
  epoch: number;
  trainLoss: number;
  valLoss?: number;
  /** train_loss, lr and, with validation, val_loss, val_accuracy, val_macro_f1, val_balanced_accuracy. */
  metrics: Record<string, number>;
}
export type StopReason = 'completed' | 'early_stopping' | 'cancelled' | 'stopped';
export interface FitEndEvent {
  history: History;
  reason: StopReason;
}

export interface TrainerEvents {
  fitStart: FitStartEvent;
  epochStart: EpochStartEvent;
  batchEnd: BatchEndEvent;
  validate: ValidateEvent;
  epochEnd: EpochEndEvent;
  fitEnd: FitEndEvent;
}
export type TrainerEventName = keyof TrainerEvents;

/** Everything needed to continue a run exactly where it stopped. */
export interface TrainingState {
  version: 1;
  /** Epoch in progress (or the next one when batchInEpoch is 0). */
  epoch: number;
  /** Micro-batches of that epoch already consumed. */
  batchInEpoch: number;
  step: number;
  epochLossSum: number;
  epochSamples: number;
  rngState: number;
  history: History;
  params: Map<string, Float32Array>;
  /** Shapes of `params` where the model declares them (checked on resume). */
  shapes?: Record<string, number[]>;
  optimizer: OptimizerState;
}

export interface TrainerContext {
  readonly model: TrainableModel;
  readonly optimizer: Optimizer;
  /** Trainer-owned seeded PRNG; its state is saved in checkpoints. */
  readonly rng: Rng;
  readonly history: History;
  /** Ask the trainer to stop at the next optimizer-step boundary. */
  stop(reason?: StopReason): void;
  /** A deep copy of the current training state (valid at step boundaries, i.e. in batchEnd when stepped). */
  snapshot(): TrainingState;
}

type Handler<E> = (event: E, ctx: TrainerContext) => void | Promise<void>;

/** A callback is an object with any of these methods; the trainer awaits each in order. */
export type Callback = { [K in TrainerEventName]?: Handler<TrainerEvents[K]> };
