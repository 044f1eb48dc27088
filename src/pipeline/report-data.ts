/** The report of a feature-extraction result: the shared report data, with candidates and thumbnails of mistakes. */
import { thumbnailDataUri } from '../report/thumbnail.js';
import type { ReportData } from '../report/types.js';
import { reportData } from './model-dir.js';
import type { TrainResult } from './train.js';

export async function reportDataFor(result: TrainResult, modelId: string): Promise<ReportData> {
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
  return reportData({
    datasetName: result.datasetName,
    modelId,
    labels: result.labels,
    evaluation: result.evaluation,
    evaluatedOn: result.evaluatedOn,
    counts: { train, validation, test },
    perClass: result.perClass,
    settings: { ...result.settings, featureTensor: result.featureTensor, skipped: result.counts.skipped },
    seconds: { extract: result.seconds.extract, train: result.seconds.train, total: result.seconds.total },
    throughput: { extract: result.extractRate },
    history: result.history,
    comparisons: result.comparisons,
    candidates: result.candidates.map((c) => ({
      ...c,
      chosen: c.model === result.model && c.tensor === result.featureTensor && c.head === result.head,
    })),
    mistakes,
  });
}
