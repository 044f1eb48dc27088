/**
 * The data `graft quantize` works on for a model directory: calibration batches from the training split and
 * the held-out split with its labels, both encoded exactly as `predict` encodes them (one path for images and
 * text), and the top-1 accuracy of any variant of the model on that held-out split.
 */
import { join } from 'node:path';
import { loadDataset } from '../data/load.js';
import { mulberry32, shuffled } from '../data/random.js';
import { stratifiedSplit } from '../data/split.js';
import type { Dataset, Example } from '../data/types.js';
import { GraftError } from '../errors.js';
import { MODEL_FILE, readManifest, type ModelManifest } from '../export/manifest.js';
import type { Model } from '../onnx/ir.js';
import { loadModel } from '../onnx/io.js';
import type { PredictInput } from '../predict/classifier.js';
import { encodeInputs, exampleInput } from '../predict/inputs.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import type { FeedBatches } from './calibrate.js';

/** The data a training run just used: its loaded data set, training examples and held-out examples. */
export interface TrainedData {
  dataset: Dataset;
  /** Calibration draws from these (the training split). */
  train: readonly Example<unknown>[];
  /** The accuracy guard evaluates on these (the run's test split, or validation when it had none). */
  heldOut: readonly Example<unknown>[];
}

export interface DirDataOptions {
  /** Calibration data (a data set spec); default: the data in graft.json's training settings. */
  calibration?: string;
  /**
   * The run that wrote the directory hands over its data and split (`graft train --int8`) instead of the data
   * being loaded by name and split again from graft.json's settings. Not with `calibration`.
   */
  trained?: TrainedData;
  /** Training examples to calibrate on (default 256). */
  calibrationExamples?: number;
  /** Held-out examples the accuracy guard evaluates on (default 1000; 0 turns the guard off). */
  evalExamples?: number;
  batchSize?: number;
  threads?: number;
}

export interface DirData {
  manifest: ModelManifest;
  /** model.onnx as written by training (not yet prepared). */
  model: Model;
  /** The data set spec calibrated on. */
  data: string;
  calibration: FeedBatches;
  calibrationCount: number;
  /** The held-out batches, or undefined when there are none (or evalExamples is 0). */
  evaluation?: { batches: FeedBatches; labels: Int32Array };
  session: SessionOptions;
  /** Top-1 accuracy in [0, 1] of a model with this directory's inputs and output on the held-out split. */
  accuracy: (model: Model) => Promise<number>;
}

function batchesOf(
  items: readonly PredictInput[],
  manifest: ModelManifest,
  dir: string,
  size: number,
): FeedBatches {
  return async function* () {
    for (let i = 0; i < items.length; i += size)
      yield await encodeInputs(items.slice(i, i + size), manifest, dir);
  };
}

/** Top-1 accuracy of `model` on encoded batches with their label indices (into the model's labels). */
export async function accuracyOf(
  model: Model,
  output: string,
  batches: FeedBatches,
  labels: Int32Array,
  session: SessionOptions,
): Promise<number> {
  const s = await Session.create(model, { ...session, validate: false });
  let correct = 0;
  let row = 0;
  try {
    for await (const feeds of batches()) {
      const probs = (await s.run(feeds, [output]))[output]!;
      const c = probs.shape[1]!;
      const data = probs.data as Float32Array;
      for (let i = 0; i < probs.shape[0]!; i++, row++) {
        let best = 0;
        for (let j = 1; j < c; j++) if (data[i * c + j]! > data[i * c + best]!) best = j;
        if (best === labels[row]) correct++;
      }
    }
  } finally {
    await s.release();
  }
  return row > 0 ? correct / row : 0;
}

/** The data set named by `options.calibration` or graft.json, split as training split it. */
async function splitNamed(
  manifest: ModelManifest,
  options: DirDataOptions,
): Promise<{ data: string; trained: TrainedData }> {
  const training = manifest.training;
  const data = options.calibration ?? training['data'];
  if (typeof data !== 'string' || data === '')
    throw new GraftError(
      'BAD_OPTION',
      `graft.json names no training data to calibrate on; pass --calibration <data> (a folder, .csv/.jsonl, mnist…)`,
    );
  const dataset = await loadDataset(data);
  const num = (key: string, fallback: number): number => {
    const v = training[key];
    return typeof v === 'number' ? v : fallback;
  };
  const split = stratifiedSplit(dataset, {
    validation: num('valSplit', 0.1),
    test: num('testSplit', 0.1),
    seed: num('seed', 0),
  });
  const heldOut = split.test.examples.length > 0 ? split.test.examples : split.validation.examples;
  return { data, trained: { dataset, train: split.train.examples, heldOut } };
}

export async function loadDirData(dir: string, options: DirDataOptions = {}): Promise<DirData> {
  const manifest = await readManifest(dir);
  const model = await loadModel(join(dir, MODEL_FILE));
  if (options.trained && options.calibration !== undefined)
    throw new GraftError(
      'BAD_OPTION',
      'calibration names other data than the training run used: drop one of the two',
    );
  const { data, trained } = options.trained
    ? { data: options.trained.dataset.name, trained: options.trained }
    : await splitNamed(manifest, options);
  const ds = trained.dataset;
  const kind = manifest.preprocess.kind;
  if (ds.kind !== kind)
    throw new GraftError('BAD_INPUT', `${data} is ${ds.kind} data; this model takes ${kind}`);
  const seedValue = manifest.training['seed'];
  const seed = typeof seedValue === 'number' ? seedValue : 0;
  const calibrationCount = options.calibrationExamples ?? 256;
  if (!(calibrationCount >= 1))
    throw new GraftError('BAD_OPTION', '--calibration-examples must be at least 1');
  const calib = shuffled(trained.train, mulberry32(seed)).slice(0, calibrationCount);
  const held = trained.heldOut;
  const labelOf = ds.labels.map((l) => manifest.labels.indexOf(l));
  const evalSet = held.filter((e) => labelOf[e.label]! >= 0).slice(0, options.evalExamples ?? 1000);
  const batchSize = options.batchSize ?? 8;
  const session: SessionOptions = options.threads ? { threads: options.threads } : {};
  const evaluation =
    evalSet.length > 0
      ? {
          batches: batchesOf(
            evalSet.map((e) => exampleInput(ds, e)),
            manifest,
            dir,
            batchSize,
          ),
          labels: Int32Array.from(evalSet, (e) => labelOf[e.label]!),
        }
      : undefined;
  return {
    manifest,
    model,
    data,
    calibration: batchesOf(
      calib.map((e) => exampleInput(ds, e)),
      manifest,
      dir,
      batchSize,
    ),
    calibrationCount: calib.length,
    ...(evaluation ? { evaluation } : {}),
    session,
    accuracy: (m) =>
      evaluation
        ? accuracyOf(m, manifest.output, evaluation.batches, evaluation.labels, session)
        : Promise.reject(new GraftError('BAD_INPUT', 'no held-out examples with the model’s labels')),
  };
}
