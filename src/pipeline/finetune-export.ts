/**
 * Writes a fine-tuned classifier as the same model directory the feature-extraction pipeline writes:
 * model.onnx (the fine-tuned backbone up to the features, pooled, + head → probabilities; runs in any ONNX
 * Runtime) and graft.json (base model id and hash of the *pre-trained* weights, strategy, metrics).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_FILE, writeManifest, type ModelManifest } from '../export/manifest.js';
import { mergeBackboneAndHead } from '../export/merge.js';
import { sha256 } from '../features/cache.js';
import { buildPooledPrefix, featureOutputName } from '../features/pooled-prefix.js';
import type { Backbone } from '../models/registry.js';
import type { Graph, Model } from '../onnx/ir.js';
import { encodeModel, saveModel } from '../onnx/io.js';
import { batchShape } from '../preprocess/image.js';
import { GraftError } from '../errors.js';
import { VERSION } from '../version.js';

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
}

/** The deployable graph: fine-tuned backbone prefix (pooled features) + head. */
export async function fineTunedClassifierModel(
  r: Omit<FineTuneExportRequest, 'out' | 'training' | 'metrics' | 'headInfo'>,
): Promise<Model> {
  const { spec } = r.backbone;
  if (spec.preprocess.kind !== 'image')
    throw new GraftError('BAD_OPTION', 'image export needs an image backbone');
  const prefix = await buildPooledPrefix(
    r.tuned,
    spec.inputName,
    [r.featureTensor],
    batchShape(1, spec.preprocess),
  );
  const merged = mergeBackboneAndHead(prefix.model, featureOutputName(r.featureTensor), r.head);
  merged.metadata = { ...merged.metadata, 'graft.labels': JSON.stringify(r.labels) };
  return merged;
}

export async function exportFineTuned(r: FineTuneExportRequest): Promise<ModelManifest> {
  const { spec } = r.backbone;
  const merged = await fineTunedClassifierModel(r);
  await mkdir(r.out, { recursive: true });
  await saveModel(merged, join(r.out, MODEL_FILE));
  const manifest: ModelManifest = {
    format: 'graft-model',
    version: 1,
    task: 'image-classification',
    labels: r.labels,
    inputs: [spec.inputName],
    output: 'probabilities',
    preprocess: spec.preprocess,
    base: { id: spec.id, sha256: sha256(encodeModel(r.backbone.model)) },
    featureTensor: r.featureTensor,
    head: r.headInfo,
    training: r.training,
    metrics: r.metrics,
    createdAt: new Date().toISOString(),
    graftVersion: VERSION,
  };
  await writeManifest(r.out, manifest);
  return manifest;
}
