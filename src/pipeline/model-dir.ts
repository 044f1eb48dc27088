/**
 * The one model-directory writer of every training path (image or text; feature extraction, fine-tuning, LP-FT,
 * scratch, tf-idf): model.onnx + graft.json + report.html, written as a whole (export/whole-dir.ts), so no
 * directory ever lacks its report. `reportData` turns what every path knows (the held-out evaluation, split
 * sizes, settings, learning curve) into the report's data.
 */
import type { EvaluationReport } from '../eval/report.js';
import {
  writeModelDir,
  type ManifestFields,
  type ModelManifest,
  type WriteModelDirOptions,
} from '../export/manifest.js';
import type { Model } from '../onnx/ir.js';
import { REPORT_FILE, renderReport } from '../report/render.js';
import type {
  ReportCandidate,
  ReportData,
  ReportDistillationSide,
  ReportMistake,
  SettingValue,
} from '../report/types.js';
import type { History } from '../train/history.js';
import { writeFileAtomic } from '../util/atomic.js';
import { join } from 'node:path';

export interface ReportInput {
  datasetName: string;
  modelId: string;
  labels: readonly string[];
  evaluation: EvaluationReport;
  evaluatedOn: string;
  /** Examples per split. */
  counts: Record<string, number>;
  /** class → split → examples, when known. */
  perClass?: Record<string, Record<string, number>>;
  /** What was asked for; nested values are shown as JSON. */
  settings: Record<string, unknown>;
  seconds: Record<string, number>;
  throughput?: Record<string, number>;
  history?: History;
  comparisons?: { name: string; report: EvaluationReport }[];
  candidates?: ReportCandidate[];
  distillation?: ReportDistillationSide[];
  mistakes?: ReportMistake[];
}

function settingValue(v: unknown): SettingValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}

export function reportData(r: ReportInput): ReportData {
  const e = r.evaluation;
  return {
    title: `graft: ${r.datasetName} on ${r.modelId}`,
    modelId: r.modelId,
    createdAt: new Date().toISOString(),
    dataset: { name: r.datasetName, splits: { ...r.counts }, perClass: r.perClass ?? {} },
    settings: Object.fromEntries(Object.entries(r.settings).map(([k, v]) => [k, settingValue(v)])),
    timing: { durations: { ...r.seconds }, throughput: { ...r.throughput } },
    history: (r.history?.epochs ?? []).map((h) => ({
      epoch: h.epoch,
      trainLoss: h.trainLoss,
      valLoss: h.valLoss,
      valAccuracy: h.metrics['val_accuracy'],
    })),
    evaluation: {
      split: r.evaluatedOn,
      labels: [...r.labels],
      confusion: e.confusion,
      perClass: e.perClass,
      accuracy: e.accuracy,
      macroF1: e.macroF1,
      logLoss: e.logLoss,
    },
    comparisons: (r.comparisons ?? []).map((c) => ({
      name: c.name,
      accuracy: c.report.accuracy,
      macroF1: c.report.macroF1,
    })),
    ...(r.candidates ? { candidates: r.candidates } : {}),
    ...(r.distillation ? { distillation: r.distillation } : {}),
    mistakes: r.mistakes ?? [],
  };
}

/** Writes model.onnx, graft.json and report.html (plus what `options.also` writes) into `dir` as a whole. */
export function writeClassifierDir(
  dir: string,
  model: Model,
  fields: ManifestFields,
  report: ReportData,
  options: WriteModelDirOptions = {},
): Promise<ModelManifest> {
  return writeModelDir(dir, model, fields, {
    also: async (staging) => {
      await writeFileAtomic(join(staging, REPORT_FILE), renderReport(report));
      await options.also?.(staging);
    },
  });
}
