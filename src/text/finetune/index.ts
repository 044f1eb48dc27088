/** BERT-style sequence-classification fine-tuning: graphs, trainable-weight selection, the model, data, arguments. */
export {
  buildClassifierGraph,
  HEAD_BIAS,
  HEAD_WEIGHT,
  hiddenSizeOf,
  initHeadParams,
  LOGITS,
  POOLER_BIAS,
  POOLER_WEIGHT,
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
