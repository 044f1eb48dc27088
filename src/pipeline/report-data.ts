/** Turns a training result into the data of its HTML report. */
import { thumbnailDataUri } from '../report/thumbnail.js';
import type { ReportData } from '../report/types.js';
import type { TrainResult } from './train.js';

export async function reportDataFor(result: TrainResult, modelId: string): Promise<ReportData> {
  const e = result.evaluation;
  const mistakes = await Promise.all(
    result.mistakes.map(async (m) => ({
      id: m.id,
      trueLabel: m.trueLabel,
      predictedLabel: m.predictedLabel,
      confidence: m.confidence,
      thumbnail: await thumbnailDataUri(m.source).catch(() => undefined),
    })),
  );
  const { train, validation, test } = result.counts;
  return {
    title: `graft: ${result.datasetName} on ${modelId}`,
    modelId,
    createdAt: new Date().toISOString(),
    dataset: { name: result.datasetName, splits: { train, validation, test }, perClass: result.perClass },
    settings: {
      ...result.settings,
      featureTensor: result.featureTensor,
      skipped: result.counts.skipped,
    },
    timing: {
      durations: {
        extract: result.seconds.extract,
        train: result.seconds.train,
        total: result.seconds.total,
      },
      throughput: { extract: result.extractRate },
    },
    history: (result.history?.epochs ?? []).map((h) => ({
      epoch: h.epoch,
      trainLoss: h.trainLoss,
      valLoss: h.valLoss,
      valAccuracy: h.metrics['val_accuracy'],
    })),
    evaluation: {
      split: result.evaluatedOn,
      labels: result.labels,
      confusion: e.confusion,
      perClass: e.perClass,
      accuracy: e.accuracy,
      macroF1: e.macroF1,
      logLoss: e.logLoss,
    },
    comparisons: result.comparisons.map((c) => ({
      name: c.name,
      accuracy: c.report.accuracy,
      macroF1: c.report.macroF1,
    })),
    candidates: result.candidates.map((c) => ({
      ...c,
      chosen: c.model === result.model && c.tensor === result.featureTensor && c.head === result.head,
    })),
    mistakes,
  };
}
