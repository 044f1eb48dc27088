/**
 * `graft quantize <model-dir>`: calibrate on a few hundred training examples (the data the model was trained
 * on, unless told otherwise), quantize model.onnx, check the accuracy on the held-out split, and write
 * model.int8.onnx beside it (atomically) with its record in graft.json. Inputs are encoded exactly as
 * `predict` encodes them (one path for images and text).
 */
import { join } from 'node:path';
import { loadDataset } from '../data/load.js';
import { mulberry32, shuffled } from '../data/random.js';
import { stratifiedSplit } from '../data/split.js';
import { GraftError } from '../errors.js';
import {
  INT8_MODEL_FILE,
  MODEL_FILE,
  readManifest,
  writeManifest,
  type Int8Record,
  type ModelManifest,
} from '../export/manifest.js';
import { sha256 } from '../features/cache.js';
import type { Model } from '../onnx/ir.js';
import { encodeModel, loadModel } from '../onnx/io.js';
import { encodeInputs, exampleInput } from '../predict/inputs.js';
import type { PredictInput } from '../predict/classifier.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { Feeds } from './calibrate.js';
import { quantizeModel, type QuantizeOptions, type QuantizeReport } from './quantize.js';

export interface QuantizeDirOptions extends Partial<Omit<QuantizeOptions, 'evaluate' | 'session'>> {
  /** Calibration data (a data set spec); default: the data in graft.json's training settings. */
  calibration?: string;
  /** Training examples to calibrate on (default 256). */
  calibrationExamples?: number;
  /** Held-out examples the accuracy guard evaluates on (default 1000; 0 turns the guard off). */
  evalExamples?: number;
  batchSize?: number;
  threads?: number;
}

export interface QuantizeDirResult {
  file: string;
  record: Int8Record;
  report: QuantizeReport;
  fp32Bytes: number;
}

function batchesOf(
  items: readonly PredictInput[],
  manifest: ModelManifest,
  dir: string,
  size: number,
): () => AsyncIterable<Feeds> {
  return async function* () {
    for (let i = 0; i < items.length; i += size)
      yield await encodeInputs(items.slice(i, i + size), manifest, dir);
  };
}

function setting(manifest: ModelManifest, key: string): unknown {
  return manifest.training[key];
}

/** Top-1 accuracy of `model` on encoded batches with their label indices (into the model's labels). */
async function accuracyOf(
  model: Model,
  output: string,
  batches: () => AsyncIterable<Feeds>,
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

export async function quantizeModelDir(
  dir: string,
  options: QuantizeDirOptions = {},
): Promise<QuantizeDirResult> {
  const manifest = await readManifest(dir);
  const model = await loadModel(join(dir, MODEL_FILE));
  const data = options.calibration ?? setting(manifest, 'data');
  if (typeof data !== 'string' || data === '')
    throw new GraftError(
      'BAD_OPTION',
      `graft.json names no training data to calibrate on; pass --calibration <data> (a folder, .csv/.jsonl, mnist…)`,
    );
  const say = options.onProgress ?? (() => {});
  say(`loading calibration data ${data}`);
  const ds = await loadDataset(data);
  const kind = manifest.preprocess.kind;
  if (ds.kind !== kind)
    throw new GraftError('BAD_INPUT', `${data} is ${ds.kind} data; this model takes ${kind}`);
  const num = (key: string, fallback: number): number => {
    const v = setting(manifest, key);
    return typeof v === 'number' ? v : fallback;
  };
  const seed = num('seed', 0);
  const split = stratifiedSplit(ds, { validation: num('valSplit', 0.1), test: num('testSplit', 0.1), seed });
  const calibrationCount = options.calibrationExamples ?? 256;
  if (!(calibrationCount >= 1))
    throw new GraftError('BAD_OPTION', '--calibration-examples must be at least 1');
  const calib = shuffled(split.train.examples, mulberry32(seed)).slice(0, calibrationCount);
  const held = split.test.examples.length > 0 ? split.test.examples : split.validation.examples;
  const labelOf = ds.labels.map((l) => manifest.labels.indexOf(l));
  const evalCount = options.evalExamples ?? 1000;
  const evalSet = held.filter((e) => labelOf[e.label]! >= 0).slice(0, evalCount);
  const batchSize = options.batchSize ?? 8;
  const session: SessionOptions = options.threads ? { threads: options.threads } : {};
  const evalBatches = batchesOf(
    evalSet.map((e) => exampleInput(ds, e)),
    manifest,
    dir,
    batchSize,
  );
  const evalLabels = Int32Array.from(evalSet, (e) => labelOf[e.label]!);
  const guard = evalCount > 0 && evalSet.length > 0;
  if (evalCount > 0 && !guard) say('no held-out examples with the model’s labels: the accuracy guard is off');

  const { exclude, maxDrop, method, percentile, perChannel, activationType, maxExcluded, onProgress } =
    options;
  const result = await quantizeModel(
    model,
    batchesOf(
      calib.map((e) => exampleInput(ds, e)),
      manifest,
      dir,
      batchSize,
    ),
    {
      exclude,
      maxDrop,
      method,
      percentile,
      perChannel,
      activationType,
      maxExcluded,
      onProgress,
      session,
      ...(guard
        ? { evaluate: (m: Model) => accuracyOf(m, manifest.output, evalBatches, evalLabels, session) }
        : {}),
    },
  );
  const q = result.model;
  q.metadata = { ...model.metadata, 'graft.quantization': `${result.report.method}, int8 weights` };
  const bytes = encodeModel(q);
  const file = join(dir, INT8_MODEL_FILE);
  await writeFileAtomic(file, bytes);
  const r = result.report;
  const record: Int8Record = {
    file: INT8_MODEL_FILE,
    sha256: sha256(bytes),
    bytes: bytes.byteLength,
    method: r.method,
    perChannel: r.perChannel,
    activationType: r.activationType,
    calibration: { data, examples: calib.length },
    excluded: r.excluded,
    ...(r.accuracy ? { accuracy: { ...r.accuracy, examples: evalSet.length } } : {}),
    createdAt: new Date().toISOString(),
  };
  await writeManifest(dir, { ...manifest, int8: record });
  return { file, record, report: r, fp32Bytes: encodeModel(model).byteLength };
}
