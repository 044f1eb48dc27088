/**
 * The feature-extraction recipe end to end: data → splits → backbone → cached features (several candidate cuts
 * in one pass) → cut chosen by cross-validation on the training split → head → honest evaluation beside a
 * raw-pixel baseline → one model.onnx + graft.json.
 */
import type { Example, ImageSource } from '../data/types.js';
import { GraftError } from '../errors.js';
import { evaluate, type EvaluationReport } from '../eval/report.js';
import { FeatureExtractor, type FeatureSet } from '../features/extract.js';
import { matrixForIds, type FeatureMatrix } from '../features/matrix.js';
import { loadBackbone } from '../models/registry.js';
import { fitHead, type FittedHead, type HeadOptions } from '../strategies/heads.js';
import { pixelFeatures } from '../strategies/pixels.js';
import { bestCandidate, scoreCandidates, type CandidateScore } from '../strategies/select-features.js';
import type { Callback, EpochRecord, History } from '../train/index.js';
import { exportClassifier, trainingSettings } from './export.js';
import { prepareImageData } from './image-data.js';
import { resolveTrainOptions, type TrainClassifierOptions } from './options.js';
import type { ModelManifest } from '../export/manifest.js';
import { writeReport } from '../report/render.js';
import { reportDataFor } from './report-data.js';
import { preflight } from './preflight.js';

export interface Comparison {
  name: string;
  report: EvaluationReport;
}

export interface TrainResult {
  labels: string[];
  featureTensor: string;
  candidates: CandidateScore[];
  /** Held-out evaluation of the trained classifier (test split, or validation when there is no test split). */
  evaluation: EvaluationReport;
  evaluatedOn: 'test' | 'validation';
  /** The same head on raw pixels and on the backbone's final features, on the same held-out examples. */
  comparisons: Comparison[];
  history?: History;
  /** Split sizes; `skipped` unreadable examples; `extracted` ran through the backbone, `fromCache` did not. */
  counts: {
    train: number;
    validation: number;
    test: number;
    skipped: number;
    extracted: number;
    fromCache: number;
  };
  /** Examples per class and split. */
  perClass: Record<string, Record<string, number>>;
  datasetName: string;
  settings: Record<string, string | number | boolean | null>;
  /** Wrongly classified held-out examples, most confident first. */
  mistakes: {
    id: string;
    source: ImageSource;
    trueLabel: string;
    predictedLabel: string;
    confidence: number;
  }[];
  seconds: { extract: number; train: number; total: number };
  extractRate: number;
  dir?: string;
  manifest?: ModelManifest;
}

const matrixFor = (set: FeatureSet, tensor: string, ids: ReadonlySet<string>): FeatureMatrix =>
  matrixForIds(set, ids, set.tensors.indexOf(tensor));

function headOptions(o: TrainClassifierOptions, callbacks: Callback[] = []): HeadOptions {
  return {
    callbacks,
    kind: o.head,
    hidden: o.hidden,
    dropout: o.dropout,
    k: o.k,
    epochs: o.epochs,
    batchSize: o.batchSize,
    lr: o.lr,
    optimizer: o.optimizer,
    weightDecay: o.weightDecay,
    labelSmoothing: o.labelSmoothing,
    standardize: true,
    seed: o.seed,
    patience: o.patience,
    signal: o.signal,
    session: o.threads ? { threads: o.threads } : undefined,
  };
}

async function scoreHead(
  head: FittedHead,
  data: FeatureMatrix,
): Promise<{ probs: Float32Array; report: EvaluationReport }> {
  const probs = await head.predictProbs(data);
  return { probs, report: evaluate(probs, data.labels) };
}

export async function trainClassifier(
  input: Partial<TrainClassifierOptions> & Pick<TrainClassifierOptions, 'data'>,
): Promise<TrainResult> {
  const o = resolveTrainOptions(input);
  await preflight({ out: o.out, cacheDir: o.cacheDir });
  const t0 = performance.now();
  const emit = o.onEvent ?? (() => {});

  const { dataset, split, train, counts, perClass } = await prepareImageData(o, emit);

  emit({ type: 'stage', stage: 'backbone', message: `importing ${o.model}` });
  const backbone = await loadBackbone(o.model, { examples: train.examples });
  if (backbone.spec.preprocess.kind !== 'image')
    throw new GraftError('BAD_OPTION', `${o.model} is not an image model`);
  const final = backbone.spec.featureTensor;
  const tensors =
    o.features === 'auto'
      ? [...new Set([...backbone.spec.candidateFeatures, final])]
      : [o.features === 'final' ? final : o.features];
  if (!tensors.includes(final)) tensors.push(final);

  emit({ type: 'stage', stage: 'extract', message: `extracting ${tensors.length} feature tensor(s)` });
  const tx = performance.now();
  const extractor = await FeatureExtractor.create(
    backbone.model,
    backbone.spec.inputName,
    backbone.spec.preprocess,
    tensors,
    {
      cacheDir: o.cacheDir,
      session: o.threads ? { threads: o.threads } : undefined,
    },
  );
  const all = [...train.examples, ...split.validation.examples, ...split.test.examples];
  const features = await extractor
    .extract(all, {
      onBadInput: o.onBadInput,
      signal: o.signal,
      onProgress: (progress) => emit({ type: 'extract', progress }),
    })
    .finally(() => extractor.release());
  const extractSeconds = (performance.now() - tx) / 1000;
  const extractRate = features.extracted / Math.max(1e-3, extractSeconds);
  const idsOf = (exs: readonly Example<ImageSource>[]) => new Set(exs.map((e) => e.id));
  const trainIds = idsOf(train.examples);
  const valIds = idsOf(split.validation.examples);
  const heldName = counts.test > 0 ? 'test' : 'validation';
  const heldIds = counts.test > 0 ? idsOf(split.test.examples) : valIds;

  const ho = headOptions(o);
  let candidates: CandidateScore[] = [];
  let chosen = tensors[0]!;
  if (o.features === 'auto') {
    emit({
      type: 'stage',
      stage: 'select',
      message: 'choosing the cut by cross-validation on the training split',
    });
    const options = tensors.map((t) => ({ tensor: t, data: matrixFor(features, t, trainIds) }));
    candidates = await scoreCandidates(options, dataset.labels.length, ho, (score) =>
      emit({ type: 'candidate', score }),
    );
    chosen = bestCandidate(candidates).tensor;
  }

  emit({ type: 'stage', stage: 'train', message: `training a ${o.head} head on ${chosen}` });
  const tt = performance.now();
  const valMatrix = heldName === 'test' ? matrixFor(features, chosen, valIds) : undefined;
  // Epochs are reported live (gradient-trained heads); an L-BFGS solve is reported when it ends.
  let reported = 0;
  const reportEpoch = (e: Omit<EpochRecord, 'step'>): void => {
    reported++;
    emit({
      type: 'epoch',
      epoch: e.epoch,
      trainLoss: e.trainLoss,
      valLoss: e.valLoss,
      valAccuracy: e.metrics['val_accuracy'],
    });
  };
  const live: Callback = { epochEnd: reportEpoch };
  const head = await fitHead(
    matrixFor(features, chosen, trainIds),
    dataset.labels.length,
    headOptions(o, [live]),
    valMatrix,
  );
  try {
    if (reported === 0) for (const e of head.history?.epochs ?? []) reportEpoch(e);
    const trainSeconds = (performance.now() - tt) / 1000;

    emit({ type: 'stage', stage: 'evaluate', message: `evaluating on the ${heldName} split` });
    const held = matrixFor(features, chosen, heldIds);
    const { probs, report } = await scoreHead(head, held);
    const comparisons: Comparison[] = [];
    if (o.baseline) {
      emit({ type: 'stage', stage: 'baseline', message: 'training the same head on raw pixels' });
      const kept = new Set(features.ids);
      const pick = (ids: ReadonlySet<string>) => all.filter((e) => ids.has(e.id) && kept.has(e.id));
      const px = await fitHead(await pixelFeatures(pick(trainIds)), dataset.labels.length, ho);
      try {
        comparisons.push({
          name: 'raw pixels',
          report: (await scoreHead(px, await pixelFeatures(pick(heldIds)))).report,
        });
      } finally {
        await px.release();
      }
      if (chosen !== final) {
        const fh = await fitHead(
          matrixFor(features, final, trainIds),
          dataset.labels.length,
          ho,
          valMatrix && matrixFor(features, final, valIds),
        );
        try {
          comparisons.push({
            name: `final features (${final})`,
            report: (await scoreHead(fh, matrixFor(features, final, heldIds))).report,
          });
        } finally {
          await fh.release();
        }
      }
    }
    comparisons.push({ name: `graft: ${o.head} head on ${chosen}`, report });

    const byId = new Map(all.map((e) => [e.id, e]));
    const heldRowIds = features.ids.filter((id) => heldIds.has(id));
    const c = dataset.labels.length;
    const mistakes = heldRowIds
      .map((id, i) => {
        const row = probs.subarray(i * c, (i + 1) * c);
        const pred = row.indexOf(Math.max(...row));
        return { id, pred, conf: row[pred]!, truth: held.labels[i]! };
      })
      .filter((m) => m.pred !== m.truth)
      .sort((a, b) => b.conf - a.conf)
      .slice(0, 12)
      .map((m) => ({
        id: m.id,
        source: byId.get(m.id)!.source,
        trueLabel: dataset.labels[m.truth]!,
        predictedLabel: dataset.labels[m.pred]!,
        confidence: m.conf,
      }));

    const result: TrainResult = {
      labels: [...dataset.labels],
      featureTensor: chosen,
      candidates,
      evaluation: report,
      evaluatedOn: heldName,
      comparisons,
      history: head.history,
      counts: {
        ...counts,
        skipped: features.skipped.length,
        extracted: features.extracted,
        fromCache: features.fromCache,
      },
      perClass,
      datasetName: dataset.name,
      settings: trainingSettings(o),
      mistakes,
      seconds: { extract: extractSeconds, train: trainSeconds, total: (performance.now() - t0) / 1000 },
      extractRate,
    };
    if (o.out) {
      emit({ type: 'stage', stage: 'export', message: `writing ${o.out}` });
      const exported = await exportClassifier({
        backbone,
        tensor: chosen,
        head,
        labels: result.labels,
        out: o.out,
        options: o,
        result,
      });
      result.dir = o.out;
      result.manifest = exported;
      await writeReport(o.out, await reportDataFor(result, o.model));
    }
    return result;
  } finally {
    await head.release();
  }
}
