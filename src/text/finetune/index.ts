/** BERT-style sequence-classification fine-tuning: graphs, trainable-weight selection, the model, data, arguments. */
export {
  buildClassifierGraph,
  classifierHead,
  HEAD_PREFIX,
  hiddenSizeOf,
  LOGITS,
  PROBABILITIES,
  raiseOpsetForTraining,
  type ClassifierGraph,
  type ClassifierGraphOptions,
  type PoolerKind,
} from './graph.js';
export {
  encoderParams,
  noDecayParams,
  parseUnfreeze,
  trainableEncoderParams,
  type EncoderParam,
  type Unfreeze,
} from './params.js';
export { SequenceClassifier, type SequenceClassifierOptions } from './model.js';
export { TextDataSource } from './data.js';
export {
  fitOptionsFor,
  resolveTextTrainingArguments,
  TEXT_TRAINING_DEFAULTS,
  warmupStepsFor,
  type IntervalStrategy,
  type ResolvedTextTrainingArguments,
  type TextTrainingArguments,
} from './arguments.js';
export { HfTrainerCallback, type LogEntry } from './hf-callbacks.js';
