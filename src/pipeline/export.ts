/** Writes a trained classifier as a model directory: model.onnx (backbone prefix + head) and graft.json. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '../features/cache.js';
import { featureOutputName, buildPooledPrefix } from '../features/pooled-prefix.js';
import { MODEL_FILE, writeManifest, type ModelManifest } from '../export/manifest.js';
import { mergeBackboneAndHead } from '../export/merge.js';
import type { Backbone } from '../models/registry.js';
import { encodeModel, saveModel } from '../onnx/io.js';
import { batchShape } from '../preprocess/image.js';
import type { FittedHead } from '../strategies/heads.js';
import { VERSION } from '../version.js';
import type { TrainClassifierOptions } from './options.js';
import type { TrainResult } from './train.js';

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
});

export async function exportClassifier(r: ExportRequest): Promise<ModelManifest> {
  const { spec, model } = r.backbone;
  if (spec.preprocess.kind !== 'image') throw new Error('image export needs an image backbone');
  const prefix = await buildPooledPrefix(model, spec.inputName, [r.tensor], batchShape(1, spec.preprocess));
  const merged = mergeBackboneAndHead(prefix.model, featureOutputName(r.tensor), r.head.exportGraph());
  merged.metadata = { ...merged.metadata, 'graft.labels': JSON.stringify(r.labels) };
  await mkdir(r.out, { recursive: true });
  await saveModel(merged, join(r.out, MODEL_FILE));
  const e = r.result.evaluation;
  const manifest: ModelManifest = {
    format: 'graft-model',
    version: 1,
    task: 'image-classification',
    labels: r.labels,
    inputs: [spec.inputName],
    output: 'probabilities',
    preprocess: spec.preprocess,
    base: { id: spec.id, sha256: sha256(encodeModel(model)) },
    featureTensor: r.tensor,
    head: r.head.describe(),
    training: r.result.settings,
    metrics: {
      evaluatedOn: r.result.evaluatedOn,
      accuracy: e.accuracy,
      macroF1: e.macroF1,
      logLoss: e.logLoss,
      counts: r.result.counts,
      comparisons: r.result.comparisons.map((c) => ({
        name: c.name,
        accuracy: c.report.accuracy,
        macroF1: c.report.macroF1,
      })),
      candidates: r.result.candidates,
    },
    createdAt: new Date().toISOString(),
    graftVersion: VERSION,
  };
  await writeManifest(r.out, manifest);
  return manifest;
}
