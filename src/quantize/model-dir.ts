/**
 * `graft quantize <model-dir>`: calibrate on a few hundred training examples (the data the model was trained
 * on, unless told otherwise), quantize model.onnx, check the accuracy on the held-out split, and write
 * model.int8.onnx beside it (atomically) with its record in graft.json. Inputs are encoded exactly as
 * `predict` encodes them (one path for images and text).
 */
import { join } from 'node:path';
import { INT8_MODEL_FILE, writeManifest, type Int8Record } from '../export/manifest.js';
import { sha256 } from '../features/cache.js';
import type { Model } from '../onnx/ir.js';
import { encodeModel } from '../onnx/io.js';
import { writeFileAtomic } from '../util/atomic.js';
import { loadDirData, type DirDataOptions } from './dir-data.js';
import { quantizeModel, type QuantizeOptions, type QuantizeReport } from './quantize.js';
import { modality } from '../modalities/index.js';

export interface QuantizeDirOptions
  extends Partial<Omit<QuantizeOptions, 'evaluate' | 'session'>>, DirDataOptions {}

export interface QuantizeDirResult {
  file: string;
  record: Int8Record;
  report: QuantizeReport;
  fp32Bytes: number;
}

export async function quantizeModelDir(
  dir: string,
  options: QuantizeDirOptions = {},
): Promise<QuantizeDirResult> {
  const say = options.onProgress ?? (() => {});
  say(
    `loading calibration data ${options.trained?.dataset.name ?? options.calibration ?? 'named in graft.json'}`,
  );
  const d = await loadDirData(dir, options);
  const guard = (options.evalExamples ?? 1000) > 0 && d.evaluation !== undefined;
  if ((options.evalExamples ?? 1000) > 0 && !guard)
    say('no held-out examples with the model’s labels: the accuracy guard is off');
  const { manifest, model } = d;
  // Everything but the directory's data options is quantizeModel's.
  const { calibration, trained, calibrationExamples, evalExamples, batchSize, threads, ...quantize } =
    options;
  const result = await quantizeModel(model, d.calibration, {
    ...quantize,
    // Text encoders: dynamic MatMul quantization, as ONNX Runtime advises for transformers (README, "int8").
    mode: quantize.mode ?? modality(manifest.preprocess.kind).quantizeMode,
    session: d.session,
    ...(guard ? { evaluate: (m: Model) => d.accuracy(m) } : {}),
  });
  const q = result.model;
  q.metadata = {
    ...model.metadata,
    'graft.quantization': `${result.report.mode} (${result.report.mode === 'static' ? `${result.report.method} ranges` : 'run-time ranges'}), int8 weights`,
  };
  const bytes = encodeModel(q);
  const file = join(dir, INT8_MODEL_FILE);
  await writeFileAtomic(file, bytes);
  const r = result.report;
  const record: Int8Record = {
    file: INT8_MODEL_FILE,
    sha256: sha256(bytes),
    bytes: bytes.byteLength,
    mode: r.mode,
    method: r.method,
    perChannel: r.perChannel,
    ...(r.biasCorrection ? { biasCorrection: true } : {}),
    activationType: r.activationType,
    calibration: { data: d.data, examples: d.calibrationCount },
    excluded: r.excluded,
    ...(r.accuracy ? { accuracy: { ...r.accuracy, examples: d.evaluation!.labels.length } } : {}),
    createdAt: new Date().toISOString(),
  };
  await writeManifest(dir, { ...manifest, int8: record });
  return { file, record, report: r, fp32Bytes: encodeModel(model).byteLength };
}
