/**
 * graftjs — transfer learning for TypeScript. Models are ONNX graphs; ONNX Runtime runs them; graft builds the
 * backward graphs. Grouped re-exports: most users need only `train`/`trainClassifier`, `load` and `Classifier`.
 */

// Using trained models.
export {
  Classifier,
  load,
  type ClassScore,
  type Prediction,
  type PredictInput,
  type PredictOptions,
} from './predict/classifier.js';
export { readManifest, type ModelManifest } from './export/manifest.js';

// Training pipelines.
export {
  trainClassifier,
  trainClassifier as train,
  type TrainResult,
  type Comparison,
} from './pipeline/train.js';
export { TRAIN_DEFAULTS, type TrainClassifierOptions } from './pipeline/options.js';
export type { TrainEvent, Stage } from './pipeline/events.js';
export { fineTuneClassifier, type FineTuneResult } from './pipeline/finetune.js';
export { FINETUNE_DEFAULTS, type FineTuneClassifierOptions } from './pipeline/finetune-options.js';
export { distill, type DistillResult } from './distill/distill.js';
export { DISTILL_DEFAULTS, type DistillOptions } from './distill/options.js';
export type { DistillComparison } from './distill/compare.js';
export {
  trainTextClassifier,
  type TextTrainResult,
  type TrainTextClassifierOptions,
} from './pipeline/train-text.js';
export { TEXT_TRAINING_DEFAULTS, type TextTrainingArguments } from './text/finetune/arguments.js';
export { rank, RANK_DEFAULTS, type RankOptions, type RankResult, type RankedCandidate } from './rank/rank.js';
export { wilsonInterval, accuracyText, type Interval } from './eval/interval.js';

// Errors and tensors.
export { GraftError, isGraftError, EXIT_CODES, type GraftErrorCode } from './errors.js';
export { float32, int64, tensor, sizeOf, type DType, type Tensor } from './tensor.js';

// Models, sources and importers.
export {
  listModels,
  getModelSpec,
  loadBackbone,
  type Backbone,
  type BackboneContext,
} from './models/registry.js';
export { pixelBackbone, pixelPreprocess, PIXELS_ID } from './models/pixels.js';
export { fitTfidf, TfidfVectorizer, TFIDF_DEFAULTS, type TfidfOptions } from './text/tfidf/vectorizer.js';
export { tfidfFeatures, tfidfClassifierModel } from './text/tfidf/features.js';
export type { ModelSpec, ImagePreprocess, TextPreprocess, Preprocess } from './models/spec.js';
export * as sources from './sources/index.js';
export * as importers from './importers/index.js';

// The ONNX core.
export * as onnx from './onnx/index.js';
export { Session, type SessionOptions } from './runtime/session.js';
export { runBatched } from './runtime/batching.js';
export { BufferPool } from './runtime/buffer-pool.js';
export * as autodiff from './autodiff/index.js';

// Building blocks.
export * as data from './data/index.js';
export * as training from './train/index.js';
export * as text from './text/index.js';
export * as report from './report/index.js';
export { createServer } from './serve/app.js';
export { FeatureExtractor, type FeatureSet } from './features/extract.js';
export { FeatureCache } from './features/cache.js';
export { preprocessImage, preprocessBatch } from './preprocess/image.js';
export { evaluate, formatReport, type EvaluationReport } from './eval/report.js';
export { evaluateDataset } from './eval/evaluate-dataset.js';
