/** graft.json: everything needed to use a trained model besides the ONNX graph itself. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GraftError } from '../errors.js';
import type { Preprocess } from '../models/spec.js';
import type { Model } from '../onnx/ir.js';
import { encodeModel } from '../onnx/io.js';
import { writeFileAtomic } from '../util/atomic.js';
import { VERSION } from '../version.js';
import { recoverDirectory, writeDirectory, type WholeDirOptions } from './whole-dir.js';

export const MANIFEST_FILE = 'graft.json';
export const MODEL_FILE = 'model.onnx';
export const INT8_MODEL_FILE = 'model.int8.onnx';

/** The int8 copy of model.onnx that `graft quantize` wrote beside it. */
export interface Int8Record {
  file: string;
  sha256: string;
  bytes: number;
  /** static (calibrated QDQ) or dynamic (MatMul weights; activations quantized on each run); absent: static. */
  mode?: string;
  /** Calibration method, weight granularity and activation type. */
  method: string;
  perChannel: boolean;
  /** Conv biases corrected for the mean weight-rounding error (static mode). */
  biasCorrection?: boolean;
  activationType: string;
  calibration: { data: string; examples: number };
  /** Nodes left in float, each with why. */
  excluded: { node: string; opType: string; reason: string }[];
  /** Held-out accuracy of both models (fractions) and the drop in points, when measured. */
  accuracy?: { fp32: number; int8: number; drop: number; examples: number; withinMaxDrop: boolean };
  createdAt: string;
}

export interface ModelManifest {
  format: 'graft-model';
  version: 1;
  task: 'image-classification' | 'text-classification';
  labels: string[];
  /** The graph's input names (one for images; input_ids/attention_mask/… for text). */
  inputs: string[];
  /** The output holding class probabilities, [batch, labels.length]. */
  output: string;
  preprocess: Preprocess;
  /** The pre-trained model this one was made from. */
  base: { id: string; sha256: string };
  /** The backbone tensor the head reads (where the backbone was cut). */
  featureTensor: string;
  head: Record<string, unknown>;
  training: Record<string, unknown>;
  metrics: Record<string, unknown>;
  /** Present once `graft quantize` has written an int8 model. */
  int8?: Int8Record;
  createdAt: string;
  graftVersion: string;
  /** sha256 of model.onnx's bytes: `load()` refuses a model.onnx that is not the one written with this file. */
  modelSha256?: string;
}

/** The keys of model.onnx's metadata that tie it to its graft.json. */
export const METADATA_LABELS = 'graft.labels';
export const METADATA_OUTPUT = 'graft.output';

/** Files of a model directory that describe the model it holds (a new model replaces them all). */
const MODEL_ENTRIES = new Set([
  MODEL_FILE,
  INT8_MODEL_FILE,
  `${MODEL_FILE}.data`,
  'graft.json',
  'report.html',
  'eval.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.txt',
]);

/** How model directories are replaced: the model's own files go, everything else (checkpoints…) moves across. */
export const MODEL_DIR: WholeDirOptions = { replaces: (name) => MODEL_ENTRIES.has(name) };

/** Finishes a model directory write that a killed process left half done (see whole-dir.ts). */
export const recoverModelDir = (dir: string): Promise<void> => recoverDirectory(dir, MODEL_DIR);

export async function writeManifest(dir: string, manifest: ModelManifest): Promise<void> {
  await writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

export async function readManifest(dir: string): Promise<ModelManifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new GraftError(
      'MODEL_NOT_FOUND',
      `'${dir}' is not a graft model directory (no ${MANIFEST_FILE})`,
      { dir },
      { cause: e },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new GraftError('CORRUPT_MODEL', `${path} is not valid JSON`, { path }, { cause: e });
  }
  const m = parsed as Partial<ModelManifest>;
  if (
    m.format !== 'graft-model' ||
    !Array.isArray(m.labels) ||
    !m.output ||
    !m.preprocess ||
    !Array.isArray(m.inputs)
  ) {
    throw new GraftError(
      'CORRUPT_MODEL',
      `${path} is not a graft model manifest (missing format, labels, inputs, output or preprocess)`,
      { path },
    );
  }
  return m as ModelManifest;
}

/** What a pipeline decides; the format, version, time and graft version are filled in by `writeModelDir`. */
export type ManifestFields = Omit<ModelManifest, 'format' | 'version' | 'createdAt' | 'graftVersion'>;

export interface WriteModelDirOptions {
  /** Writes further files (tokenizer files…) into the directory before it replaces the previous one. */
  also?: (dir: string) => Promise<unknown>;
}

/**
 * Writes a model directory as a whole (see whole-dir.ts): model.onnx (labels and output name also in its
 * metadata) and graft.json (with model.onnx's sha256), plus whatever `options.also` writes. A previous model
 * in `dir` stays intact until the new one is complete; its checkpoints and other files move across.
 */
export async function writeModelDir(
  dir: string,
  model: Model,
  fields: ManifestFields,
  options: WriteModelDirOptions = {},
): Promise<ModelManifest> {
  model.metadata = {
    ...model.metadata,
    [METADATA_LABELS]: JSON.stringify(fields.labels),
    [METADATA_OUTPUT]: fields.output,
  };
  const bytes = encodeModel(model);
  const manifest: ModelManifest = {
    format: 'graft-model',
    version: 1,
    ...fields,
    createdAt: new Date().toISOString(),
    graftVersion: VERSION,
    modelSha256: createHash('sha256').update(bytes).digest('hex'),
  };
  await writeDirectory(dir, MODEL_DIR, async (staging) => {
    await writeFileAtomic(join(staging, MODEL_FILE), bytes);
    await writeManifest(staging, manifest);
    await options.also?.(staging);
  });
  return manifest;
}
