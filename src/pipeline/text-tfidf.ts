/**
 * The tf-idf path of trainTextClassifier (`model: 'tfidf'`): the no-transfer text baseline, offline. A
 * vectoriser fitted on the training split only → tf-idf rows (by the same graph the export holds) → fitHead →
 * model.onnx (term counts → tf-idf → head) + tfidf.json (the vocabulary) + graft.json.
 */
import { join } from 'node:path';
import type { TextDataset } from '../data/types.js';
import type { CandidateScore } from '../strategies/auto-select.js';
import { GraftError } from '../errors.js';
import type { ModelManifest } from '../export/manifest.js';
import { sha256 } from '../features/cache.js';
import type { FeatureMatrix } from '../features/matrix.js';
import type { TfidfPreprocess } from '../models/spec.js';
import type { FittedHead } from '../heads/fitted.js';
import { resolveTextTrainingArguments } from '../text/finetune/arguments.js';
import { tfidfClassifierModel, tfidfFeatures } from '../text/tfidf/features.js';
import { TFIDF_FEATURES, TFIDF_INPUT } from '../text/tfidf/graph.js';
import { fitTfidf, TFIDF_FILE, type TfidfVectorizer } from '../text/tfidf/vectorizer.js';
import { writeFileAtomic } from '../util/atomic.js';
import { headlineMetrics } from './export.js';
import { fitTextHead, textHeadOptions } from './text-features.js';
import { textReport } from './text-export.js';
import { writeClassifierDir } from './model-dir.js';
import type { TextSplits, TextTrainResult, TrainTextClassifierOptions } from './train-text.js';
import { TFIDF_ID } from '../models/baselines.js';

export { TFIDF_ID };

const texts = (ds: TextDataset): string[] => ds.examples.map((e) => e.source);
const labelsOf = (ds: TextDataset): Int32Array => Int32Array.from(ds.examples, (e) => e.label);

/** Encoder options that mean nothing without an encoder: refused rather than ignored. */
function refuseEncoderOptions(o: TrainTextClassifierOptions): void {
  const given = (
    [
      ['pooling', o.pooling],
      ['normalize', o.normalize],
      ['unfreeze', o.unfreeze],
      ['pooler', o.pooler],
      ['maxSeqLength', o.args.maxSeqLength],
    ] as const
  ).filter(([, v]) => v !== undefined);
  if (given.length > 0)
    throw new GraftError(
      'BAD_OPTION',
      `${given.map(([k]) => k).join(', ')} configure a text encoder; the tf-idf model has none (it counts every word of a text): drop them or use an encoder model`,
      { options: given.map(([k]) => k) },
    );
}

/** Writes model.onnx (term counts → tf-idf → head), tfidf.json, graft.json and report.html into `out`. */
export async function writeTfidfModel(r: {
  vectorizer: TfidfVectorizer;
  head: FittedHead;
  out: string;
  training: Record<string, unknown>;
  result: TextTrainResult;
}): Promise<ModelManifest> {
  const vocabulary = `${JSON.stringify(r.vectorizer.toJSON())}\n`;
  const preprocess: TfidfPreprocess = { kind: 'text', vectorizer: 'tfidf', file: TFIDF_FILE };
  return writeClassifierDir(
    r.out,
    tfidfClassifierModel(r.vectorizer, r.head.exportGraph()),
    {
      task: 'text-classification',
      labels: r.result.labels,
      inputs: [TFIDF_INPUT],
      output: 'probabilities',
      preprocess,
      base: { id: TFIDF_ID, sha256: sha256(vocabulary) },
      featureTensor: TFIDF_FEATURES,
      head: r.head.describe(),
      training: r.training,
      metrics: headlineMetrics(r.result),
    },
    textReport(r.result, TFIDF_ID, r.training),
    {
      // The vocabulary goes in with the model, so the directory never holds one without the other.
      also: (dir) => writeFileAtomic(join(dir, TFIDF_FILE), vocabulary),
    },
  );
}

/** `candidates`: the automatic search's decision table when tf-idf won it (encoder options were its rivals'). */
export async function runTfidfFeatures(
  o: TrainTextClassifierOptions,
  s: TextSplits,
  candidates?: CandidateScore[],
): Promise<TextTrainResult> {
  if (!candidates) refuseEncoderOptions(o);
  const t0 = performance.now();
  const args = resolveTextTrainingArguments(o.args);
  const session = o.threads ? { threads: o.threads } : undefined;
  const vectorizer = fitTfidf(texts(s.train));
  const matrix = (ds: TextDataset): Promise<FeatureMatrix> =>
    tfidfFeatures(vectorizer, texts(ds), labelsOf(ds), session);
  // tf-idf rows are L2-normalised and sparse: standardising columns would blow rare terms up.
  const ho = { ...textHeadOptions(o, args, session), standardize: false };
  const { head, result, kind } = await fitTextHead(
    s,
    ho,
    {
      train: await matrix(s.train),
      evaluation: await matrix(s.evaluation),
      ...(s.test.examples.length > 0 ? { test: await matrix(s.test) } : {}),
    },
    [],
    o.head ?? 'linear',
    o.budget,
  );
  Object.assign(result, { model: TFIDF_ID, head: kind }, candidates ? { candidates } : {});
  try {
    if (o.export !== false) {
      result.manifest = await writeTfidfModel({
        vectorizer,
        head,
        out: args.outputDir,
        training: {
          method: 'features',
          model: TFIDF_ID,
          head: kind,
          data: typeof o.data === 'string' ? o.data : o.data.name,
          vectorizer: vectorizer.options,
          vocabulary: vectorizer.size,
        },
        result,
      });
      result.dir = args.outputDir;
    }
  } finally {
    await head.release();
  }
  result.seconds.total = (performance.now() - t0) / 1000;
  return result;
}
