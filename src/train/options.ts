/** FitOptions and their defaults, merged in one place. */
import { check } from '../errors.js';
import type { Callback, TrainingState } from './events.js';
import { createOptimizer, Optimizer, type OptimizerSpec } from './optimizers/index.js';
import { makeSchedule, type LrSchedule, type ScheduleSpec } from './schedules.js';
import type { DataSource } from './types.js';

export interface FitOptions {
  epochs: number;
  batchSize: number;
  /** An optimizer instance or a spec; default Adam, lr 1e-3. */
  optimizer: Optimizer | OptimizerSpec;
  /** Scheduled from the optimizer's lr over the whole run; default constant. */
  schedule: ScheduleSpec | LrSchedule;
  shuffle: boolean;
  /** Seeds the trainer's PRNG (the data order comes from the DataSource's own seed and the epoch). */
  seed: number;
  /** Micro-batches per optimizer step; gradients are averaged weighted by batch size. */
  accumulateSteps: number;
  /** Clip gradients to this global L2 norm before each step. */
  clipGradNorm?: number;
  validation?: DataSource;
  validationBatchSize?: number;
  callbacks: Callback[];
  signal?: AbortSignal;
  /** On abort: throw GraftError('CANCELLED') (default) or stop gracefully and return the history. */
  onCancel: 'throw' | 'stop';
  /** Continue from a checkpoint's training state (see findResumeCheckpoint in checkpoints.ts). */
  resume?: TrainingState;
}

export const FIT_DEFAULTS: Readonly<Omit<FitOptions, 'optimizer' | 'callbacks'>> = {
  epochs: 10,
  batchSize: 32,
  schedule: { kind: 'constant' },
  shuffle: true,
  seed: 0,
  accumulateSteps: 1,
  onCancel: 'throw',
};

export interface ResolvedFit extends Omit<FitOptions, 'optimizer' | 'schedule'> {
  optimizer: Optimizer;
  schedule: LrSchedule;
  stepsPerEpoch: number;
  totalSteps: number;
}

export function resolveFitOptions(trainSize: number, options: Partial<FitOptions> = {}): ResolvedFit {
  const o = { ...FIT_DEFAULTS, callbacks: [], ...options };
  check(Number.isInteger(o.epochs) && o.epochs >= 1, 'BAD_OPTION', `epochs must be ≥ 1, got ${o.epochs}`);
  check(Number.isInteger(o.batchSize) && o.batchSize >= 1, 'BAD_OPTION', `invalid batchSize ${o.batchSize}`);
  check(
    Number.isInteger(o.accumulateSteps) && o.accumulateSteps >= 1,
    'BAD_OPTION',
    `invalid accumulateSteps ${o.accumulateSteps}`,
  );
  check(
    o.clipGradNorm === undefined || o.clipGradNorm > 0,
    'BAD_OPTION',
    `invalid clipGradNorm ${o.clipGradNorm}`,
  );
  check(trainSize >= 1, 'BAD_INPUT', 'the training set is empty');
  const spec = options.optimizer ?? { kind: 'adam', lr: 1e-3 };
  const optimizer = spec instanceof Optimizer ? spec : createOptimizer(spec);
  const stepsPerEpoch = Math.ceil(Math.ceil(trainSize / o.batchSize) / o.accumulateSteps);
  const totalSteps = stepsPerEpoch * o.epochs;
  const schedule = 'lrAt' in o.schedule ? o.schedule : makeSchedule(o.schedule, optimizer.lr, totalSteps);
  return { ...o, optimizer, schedule, stepsPerEpoch, totalSteps };
}
