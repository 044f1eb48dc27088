/** Training: optimizers, schedules, the Trainer, callbacks, checkpoints. */
export * from './optimizers/index.js';
export * from './schedules.js';
export * from './callbacks/index.js';
export { arrayDataSource, type ArrayDataSourceOptions } from './data-source.js';
export { decodeCheckpoint, encodeCheckpoint } from './checkpoint-io.js';
export {
  assertSameRun,
  checkpointPath,
  findResumeCheckpoint,
  latestCheckpoint,
  listCheckpoints,
  readCheckpoint,
  rotateCheckpoints,
  writeCheckpoint,
  type LogEntry,
  type RunOptions,
  type SavedCheckpoint,
  type TrainerStateJson,
} from './checkpoints.js';
export type * from './events.js';
export { emptyHistory, metricSeries, type EpochRecord, type History } from './history.js';
export { FIT_DEFAULTS, resolveFitOptions, type FitOptions, type ResolvedFit } from './options.js';
export { deriveSeed, permutation, Rng } from './random.js';
export { fit, Trainer } from './trainer.js';
export type { Batch, DataSource, TrainableModel, Uniform } from './types.js';
export { predictAll, validate } from './validation.js';
