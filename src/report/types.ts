/** ReportData: everything a training report shows. Plain JSON-serialisable data (no functions, no typed arrays). */

/** One finished epoch of training. Accuracies are fractions in 0..1. */
export interface ReportEpoch {
  epoch: number;
  trainLoss: number;
  valLoss?: number;
  trainAccuracy?: number;
  valAccuracy?: number;
}

/** Precision, recall and F1 (0..1) and the number of true examples of one class; same shape as eval's ClassStats. */
export interface ReportClassStats {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** The final model on the validation (or test) split. Structurally a subset of eval's EvaluationReport + labels. */
export interface ReportEvaluation {
  /** Which split was evaluated (shown in headings); default 'validation'. */
  split?: string;
  labels: string[];
  /** confusion[true][predicted], labels.length × labels.length. */
  confusion: number[][];
  /** One entry per label, in label order. */
  perClass: ReportClassStats[];
  accuracy: number;
  macroF1: number;
  logLoss: number;
}

/** Sizes of the data set: examples per split, and per class within each split. */
export interface ReportDataset {
  name: string;
  /** e.g. { train: 800, validation: 200 } */
  splits: Record<string, number>;
  /** class label → split name → count */
  perClass: Record<string, Record<string, number>>;
}

/** Wall-clock times (seconds) and throughput (examples per second), each keyed by phase name. */
export interface ReportTiming {
  durations: Record<string, number>;
  throughput: Record<string, number>;
}

/** The transfer-learned model beside baselines (raw pixels, from scratch, other feature tensors…). */
export interface ReportComparison {
  name: string;
  accuracy: number;
  macroF1: number;
}

/** A feature tensor tried as the cut point, with its cross-validated accuracy. */
export interface ReportCandidate {
  model: string;
  tensor: string;
  head: string;
  dim: number;
  /** NaN when skipped. */
  cvAccuracy: number;
  seconds: number;
  skipped?: string;
  chosen: boolean;
}

/** A confidently wrong validation example. */
export interface ReportMistake {
  id: string;
  trueLabel: string;
  predictedLabel: string;
  /** Probability the model gave the predicted label, 0..1. */
  confidence: number;
  /** `data:image/(png|jpeg|gif|webp);base64,…` (see thumbnailDataUri); anything else is not shown. */
  thumbnail?: string;
  /** A snippet of the input, for text models. */
  text?: string;
}

/** One side of a distillation (teacher or student), on the held-out split and this machine. */
export interface ReportDistillationSide {
  /** 'teacher' or 'student'. */
  role: string;
  /** What it is (model directory, ONNX file, student spec). */
  model: string;
  accuracy: number;
  /** How often it predicts the teacher's class (the student's row). */
  agreement?: number;
  parameters: number;
  /** Size of its ONNX file. */
  bytes: number;
  /** Median over timed rounds; absent when not measured. */
  imagesPerSecond?: number;
}

export type SettingValue = string | number | boolean | null;

export interface ReportData {
  title: string;
  modelId: string;
  /** ISO time the report was made; shown when present. */
  createdAt?: string;
  dataset: ReportDataset;
  settings: Record<string, SettingValue>;
  timing: ReportTiming;
  history: ReportEpoch[];
  evaluation: ReportEvaluation;
  comparisons: ReportComparison[];
  candidates?: ReportCandidate[];
  /** Teacher and student side by side, for distilled models. */
  distillation?: ReportDistillationSide[];
  mistakes: ReportMistake[];
}
