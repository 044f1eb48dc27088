/**
 * Writes a fine-tuned classifier as the same model directory the feature-extraction pipeline writes:
 * model.onnx (the fine-tuned backbone up to the features, pooled, + head → probabilities; runs in any ONNX
 * Runtime), graft.json (base model id and hash of the *pre-trained* weights, strategy, metrics) and report.html.
 */
import type { ModelManifest } from '../export/manifest.js';
import type { ReportData } from '../report/types.js';
import type { Backbone } from '../models/registry.js';
import type { Graph, Model } from '../onnx/ir.js';
import { imageClassifierModel, imageManifestFields } from './export.js';
import { writeClassifierDir } from './model-dir.js';

export interface FineTuneExportRequest {
  /** The pre-trained backbone (spec + original weights, hashed into graft.json). */
  backbone: Backbone;
  /** The same graph with fine-tuned weights. */
  tuned: Model;
  featureTensor: string;
  /** features → probabilities, trained parameters baked in. */
  head: Graph;
  headInfo: Record<string, unknown>;
  labels: string[];
  out: string;
  training: Record<string, unknown>;
  metrics: Record<string, unknown>;
  report: ReportData;
}

/** The deployable graph: fine-tuned backbone prefix (pooled features) + head. */
export function fineTunedClassifierModel(
  r: Omit<FineTuneExportRequest, 'out' | 'training' | 'metrics' | 'headInfo' | 'report'>,
): Promise<Model> {
  return imageClassifierModel(r.backbone, r.tuned, r.featureTensor, r.head);
}

export async function exportFineTuned(r: FineTuneExportRequest): Promise<ModelManifest> {
  return writeClassifierDir(
    r.out,
    await fineTunedClassifierModel(r),
    {
      ...imageManifestFields(r.backbone, r.featureTensor, r.labels),
      head: r.headInfo,
      training: r.training,
      metrics: r.metrics,
    },
    r.report,
  );
}
