/** Writes a trained classifier as a model directory: model.onnx (backbone prefix + head), graft.json, report.html. */
import { resolveAugment } from '../augment/image.js';
import type { CandidateScore } from '../strategies/auto-select.js';
import { GraftError } from '../errors.js';
import type { ModelManifest } from '../export/manifest.js';
import type { EvaluationReport } from '../eval/report.js';
import { mergeBackboneAndHead } from '../export/merge.js';
import { modelSha256 } from '../features/cache.js';
import { buildPooledPrefix, featureOutputName } from '../features/pooled-prefix.js';
import type { Backbone } from '../models/registry.js';
import type { Graph, Model } from '../onnx/ir.js';
import { batchShape } from '../preprocess/image.js';
import type { FittedHead } from '../heads/fitted.js';
import type { TrainClassifierOptions } from './options.js';
import type { TrainResult } from './train.js';
import { writeClassifierDir } from './model-dir.js';
import { reportDataFor } from './report-data.js';

export interface ExportRequest {
  backbone: Backbone;
  tensor: string;
  head: FittedHead;
  labels: string[];
  out: string;
  options: TrainClassifierOptions;
  result: TrainResult;
}

export const trainingSettings = (
  o: TrainClassifierOptions,
): Record<string, string | number | boolean | null> => ({
  model: o.model,
  data: typeof o.data === 'string' ? o.data : o.data.name,
  head: o.head,
  epochs: o.epochs,
  batchSize: o.batchSize,
  lr: o.lr,
  optimizer: o.optimizer,
  weightDecay: o.weightDecay,
  labelSmoothing: o.labelSmoothing,
  shots: o.shots ?? null,
  valSplit: o.valSplit,
  testSplit: o.testSplit,
  seed: o.seed,
  features: o.features,
  augmentViews: o.augmentViews,
  // What made the views, defaults filled in, so a later run can reproduce them.
  ...(o.augmentViews > 0
    ? { augmentViewUse: o.augmentViewUse, viewAugment: JSON.stringify(resolveAugment(o.viewAugment)) }
    : {}),
});

/** The deployable graph: the backbone (pre-trained or fine-tuned weights) up to the pooled features + head. */
export async function imageClassifierModel(
  backbone: Backbone,
  weights: Model,
  tensor: string,
  head: Graph,
): Promise<Model> {
  const { spec } = backbone;
  if (spec.preprocess.kind !== 'image')
    throw new GraftError('BAD_OPTION', 'image export needs an image backbone');
  const prefix = await buildPooledPrefix(weights, spec.inputName, [tensor], batchShape(1, spec.preprocess));
  return mergeBackboneAndHead(prefix.model, featureOutputName(tensor), head);
}

/** graft.json fields every image classifier shares. */
export function imageManifestFields(backbone: Backbone, tensor: string, labels: string[]) {
  const { spec } = backbone;
  return {
    task: 'image-classification' as const,
    labels,
    inputs: [spec.inputName],
    output: 'probabilities',
    preprocess: spec.preprocess,
    base: { id: spec.id, sha256: modelSha256(backbone.model) },
    featureTensor: tensor,
  };
}

/** The metrics every model directory records: where it was evaluated, headline scores, data counts. */
export function headlineMetrics<C>(r: {
  evaluatedOn: string;
  evaluation: EvaluationReport;
  counts: C;
  candidates?: readonly CandidateScore[];
}) {
  const e = r.evaluation;
  return {
    evaluatedOn: r.evaluatedOn,
    accuracy: e.accuracy,
    macroF1: e.macroF1,
    logLoss: e.logLoss,
    counts: r.counts,
    // The automatic search's decision table, whichever modality ran it.
    ...(r.candidates?.length ? { candidates: r.candidates } : {}),
  };
}

export async function exportClassifier(r: ExportRequest): Promise<ModelManifest> {
  const merged = await imageClassifierModel(r.backbone, r.backbone.model, r.tensor, r.head.exportGraph());
  return writeClassifierDir(
    r.out,
    merged,
    {
      ...imageManifestFields(r.backbone, r.tensor, r.labels),
      head: r.head.describe(),
      training: r.result.settings,
      metrics: {
        ...headlineMetrics(r.result),
        comparisons: r.result.comparisons.map((c) => ({
          name: c.name,
          accuracy: c.report.accuracy,
          macroF1: c.report.macroF1,
        })),
        candidates: r.result.candidates,
      },
    },
    await reportDataFor(r.result, r.options.model),
  );
}
