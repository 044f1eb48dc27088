export {
  Checkpoint,
  CheckpointWriter,
  type CheckpointOptions,
  type CheckpointWriterOptions,
} from './checkpoint.js';
export { EarlyStopping, type EarlyStoppingOptions } from './early-stopping.js';
export { ProgressLogger, type ProgressLoggerOptions } from './progress.js';
