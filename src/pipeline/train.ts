/**
 * The feature-extraction recipe end to end: data → splits → backbone (+ the no-transfer baseline) → cached
 * features (every candidate in one pass) → features and head chosen by cross-validation on the training split
 * (strategies/auto-select.ts) → head fitted on the whole training split → honest evaluation beside the baseline
 * and the final features → one model.onnx + graft.json + report.html.
 */
import type { Example, ImageSource } from '../data/types.js';
import { evaluateHeldOut, type EvaluationReport } from '../eval/report.js';
import type { FeatureMatrix } from '../features/matrix.js';
import { PIXELS_FEATURES, PIXELS_ID } from '../models/pixels.js';
import { featureTensorsFor } from '../features/tensors.js';
import { loadBackbone } from '../models/registry.js';
import {
  AUTO_HEADS,
  bestCandidate,
  concatenationCandidate,
  scoreCandidates,
  type CandidateScore,
} from '../strategies/auto-select.js';
import { fitHead, type FittedHead, type HeadKind, type HeadOptions } from '../heads/fitted.js';
import type { Callback, EpochRecord, History } from '../train/index.js';
import { exportClassifier, trainingSettings } from './export.js';
import {
  extractSource,
  sourceMatrix,
  sourceViews,
  type FeatureSource,
  type ViewRequest,
} from './feature-sources.js';
import { prepareImageData } from './image-data.js';
import { givenOptions, HEAD_FIT_OPTIONS, refuseUnusedOptions } from './option-scope.js';
import { resolveTrainOptions, type TrainClassifierOptions } from './options.js';
import type { Int8Record, ModelManifest } from '../export/manifest.js';
import { checkInt8Request, quantizeTrained } from '../quantize/after-training.js';
import { preflight } from './preflight.js';
import { fineTuneTrial, type FineTuneTrial } from './auto-finetune.js';
import { validateHeadOptions, validateViewOptions } from './validate.js';
import { withViews } from '../features/view-matrix.js';
import { epochEvent } from './events.js';

export interface Comparison {
  name: string;
  report: EvaluationReport;
}

export interface TrainResult {
  labels: string[];
  /** The model the shipped features come from (the backbone, or `pixels` when the baseline won). */
  model: string;
  featureTensor: string;
  head: HeadKind;
  /** Every candidate scored by cross-validation on the training split (empty when nothing was left open). */
  candidates: CandidateScore[];
  /** What shipped: the head on frozen features, or LP-FT's fine-tuned backbone + head (see `fineTuning`). */
  recipe: 'features' | 'lp-ft';
  /** The search's fine-tuning trial: why it was skipped, or LP-FT's validation figures. */
  fineTuning?: FineTuneTrial;
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
  /** model.int8.onnx's record in graft.json, when `int8` was asked for. */
  int8?: Int8Record;
}

export function headOptions(
  o: TrainClassifierOptions,
  kind: HeadKind,
  callbacks: Callback[] = [],
): HeadOptions {
  return {
    callbacks,
    kind,
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

async function fitAndScore(
  train: FeatureMatrix,
  held: FeatureMatrix,
  numClasses: number,
  options: HeadOptions,
  validation?: FeatureMatrix,
): Promise<{ head: FittedHead; probs: Float32Array; report: EvaluationReport }> {
  const head = await fitHead(train, numClasses, options, validation);
  try {
    const probs = await head.predictProbs(held);
    return { head, probs, report: evaluateHeldOut(probs, held.labels) };
  } catch (e) {
    await head.release();
    throw e;
  }
}

export async function trainClassifier(
  input: Partial<TrainClassifierOptions> & Pick<TrainClassifierOptions, 'data'>,
): Promise<TrainResult> {
  const o = resolveTrainOptions(input);
  validateViewOptions(o);
  // As `graft train` refuses them: head options the chosen head (or the search) would drop.
  refuseUnusedOptions(
    {
      modality: 'image',
      strategy: o.fineTune === false ? 'linear-probe' : 'auto',
      head: o.head,
      features: o.features,
      optimizer: o.optimizer,
    },
    givenOptions(input, HEAD_FIT_OPTIONS),
  );
  checkInt8Request(o.int8, o.out);
  await preflight({ out: o.out, cacheDir: o.cacheDir });
  const t0 = performance.now();
  const emit = o.onEvent ?? (() => {});

  const { dataset, split, train, counts, perClass } = await prepareImageData(o, emit);
  validateHeadOptions(o, train.examples.length, input.k !== undefined);
  const numClasses = dataset.labels.length;

  emit({ type: 'stage', stage: 'backbone', message: `importing ${o.model}` });
  const backbone = await loadBackbone(o.model, { examples: train.examples });
  const final = backbone.spec.featureTensor;
  const searchFeatures = o.features === 'auto';
  const { primary, extracted: wanted } = featureTensorsFor(backbone.spec, o.features, o.baseline);
  const withBaseline = o.baseline && o.model !== PIXELS_ID;

  emit({ type: 'stage', stage: 'extract', message: `extracting ${wanted.length} feature tensor(s)` });
  const tx = performance.now();
  const all = [...train.examples, ...split.validation.examples, ...split.test.examples];
  // Feature-level augmentation: views of the training examples only, for every source alike.
  const views: ViewRequest | undefined =
    o.augmentViews > 0
      ? { examples: train.examples, count: o.augmentViews, seed: o.seed, augment: o.viewAugment ?? {} }
      : undefined;
  const main = await extractSource(backbone, wanted, all, o, emit, views);
  const sources: FeatureSource[] = [main];
  if (withBaseline) {
    const pixels = await loadBackbone(PIXELS_ID, { examples: train.examples });
    sources.push(await extractSource(pixels, [PIXELS_FEATURES], all, o, emit, views, false));
  }
  const extractSeconds = (performance.now() - tx) / 1000;
  const extractRate = main.set.extracted / Math.max(1e-3, extractSeconds);

  // Every source sees the same usable examples, so their rows (and cross-validation folds) line up.
  const usable = new Set(main.set.ids.filter((id) => sources.every((s) => s.set.ids.includes(id))));
  const idsOf = (exs: readonly Example<ImageSource>[]) =>
    new Set(exs.map((e) => e.id).filter((id) => usable.has(id)));
  const trainIds = idsOf(train.examples);
  /** A source's training rows, with their augmented views when asked for. */
  const trainingRows = (s: FeatureSource, tensor: string) =>
    withViews(sourceMatrix(s, tensor, trainIds), sourceViews(s, tensor, trainIds, o.augmentViewUse));
  const valIds = idsOf(split.validation.examples);
  const heldName = counts.test > 0 ? 'test' : 'validation';
  const heldIds = counts.test > 0 ? idsOf(split.test.examples) : valIds;
  const sourceOf = (model: string) => sources.find((s) => s.backbone.spec.id === model) ?? main;

  const heads = o.head === 'auto' ? AUTO_HEADS : [o.head];
  const searchStart = performance.now();
  let candidates: CandidateScore[] = [];
  let choice = { model: backbone.spec.id, tensor: primary[0]!, head: heads[0]! };
  if (primary.length > 1 || heads.length > 1 || (searchFeatures && withBaseline)) {
    emit({
      type: 'stage',
      stage: 'select',
      message: 'choosing features and head by cross-validation on the training split',
    });
    const options = primary.map((tensor) => ({
      model: backbone.spec.id,
      tensor,
      data: sourceMatrix(main, tensor, trainIds),
      views: sourceViews(main, tensor, trainIds, o.augmentViewUse),
    }));
    if (searchFeatures && withBaseline) {
      const px = sources[1]!;
      options.push({
        model: px.backbone.spec.id,
        tensor: PIXELS_FEATURES,
        data: sourceMatrix(px, PIXELS_FEATURES, trainIds),
        views: sourceViews(px, PIXELS_FEATURES, trainIds, o.augmentViewUse),
      });
    }
    candidates = await scoreCandidates(options, numClasses, headOptions(o, 'linear'), {
      heads,
      budgetMs: o.budget * 1000,
      onScore: (score) => emit({ type: 'candidate', score }),
      // Two depths of the backbone side by side, once the single features have been scored.
      followUps: (scores) => {
        const pair = searchFeatures ? concatenationCandidate(scores, backbone.spec.id, primary) : undefined;
        if (!pair) return [];
        const data = sourceMatrix(main, pair, trainIds);
        const views = sourceViews(main, pair, trainIds, o.augmentViewUse);
        return [{ model: backbone.spec.id, tensor: pair, data, views }];
      },
    });
    choice = bestCandidate(candidates);
  }
  const chosen = sourceOf(choice.model);

  emit({
    type: 'stage',
    stage: 'train',
    message: `training a ${choice.head} head on ${choice.model === backbone.spec.id ? '' : `${choice.model} `}${choice.tensor}`,
  });
  const tt = performance.now();
  const valMatrix = heldName === 'test' ? sourceMatrix(chosen, choice.tensor, valIds) : undefined;
  // Epochs are reported live (gradient-trained heads); an L-BFGS solve is reported when it ends.
  let reported = 0;
  const reportEpoch = (e: Omit<EpochRecord, 'step'>): void => {
    reported++;
    emit(epochEvent(e));
  };
  const held = sourceMatrix(chosen, choice.tensor, heldIds);
  const { head, probs, report } = await fitAndScore(
    trainingRows(chosen, choice.tensor),
    held,
    numClasses,
    headOptions(o, choice.head, [{ epochEnd: reportEpoch }]),
    valMatrix,
  );
  try {
    if (reported === 0) for (const e of head.history?.epochs ?? []) reportEpoch(e);
    const trainSeconds = (performance.now() - tt) / 1000;

    emit({ type: 'stage', stage: 'evaluate', message: `evaluating on the ${heldName} split` });
    const comparisons: Comparison[] = [];
    const compare = async (name: string, s: FeatureSource, tensor: string): Promise<void> => {
      const r = await fitAndScore(
        trainingRows(s, tensor),
        sourceMatrix(s, tensor, heldIds),
        numClasses,
        headOptions(o, choice.head),
        valMatrix && sourceMatrix(s, tensor, valIds),
      );
      await r.head.release();
      comparisons.push({ name, report: r.report });
    };
    if (o.baseline) {
      emit({ type: 'stage', stage: 'baseline', message: `the same ${choice.head} head on raw pixels` });
      if (withBaseline && choice.model !== PIXELS_ID)
        await compare(`raw pixels (${choice.head} head)`, sources[1]!, PIXELS_FEATURES);
      if (choice.model !== backbone.spec.id || choice.tensor !== final)
        await compare(`final features (${final}, ${choice.head} head)`, main, final);
    }
    comparisons.push({ name: `graft: ${choice.head} head on ${choice.tensor}`, report });

    const byId = new Map(all.map((e) => [e.id, e]));
    const heldRowIds = chosen.set.ids.filter((id) => heldIds.has(id));
    const mistakes = heldRowIds
      .map((id, i) => {
        const row = probs.subarray(i * numClasses, (i + 1) * numClasses);
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
      model: choice.model,
      featureTensor: choice.tensor,
      head: choice.head,
      candidates,
      recipe: 'features',
      evaluation: report,
      evaluatedOn: heldName,
      comparisons,
      history: head.history,
      counts: {
        ...counts,
        skipped: main.set.skipped.length,
        extracted: main.set.extracted,
        fromCache: main.set.fromCache,
      },
      perClass,
      datasetName: dataset.name,
      settings: { ...trainingSettings(o), chosenModel: choice.model, chosenHead: choice.head },
      mistakes,
      seconds: { extract: extractSeconds, train: trainSeconds, total: (performance.now() - t0) / 1000 },
      extractRate,
    };
    /** The shipped directory quantized with this run's training split and held-out split. */
    const withInt8 = async (): Promise<TrainResult> => {
      if (!result.dir || !o.int8) return result;
      emit({ type: 'stage', stage: 'quantize', message: `quantizing ${result.dir} to int8` });
      result.int8 = await quantizeTrained(
        result.dir,
        o.int8,
        {
          dataset,
          train: train.examples,
          heldOut: heldName === 'test' ? split.test.examples : split.validation.examples,
        },
        {
          threads: o.threads,
          onProgress: (message) => emit({ type: 'stage', stage: 'quantize', message }),
        },
      );
      return result;
    };
    if (o.fineTune === 'auto' && searchFeatures && o.head === 'auto') {
      const trial = await fineTuneTrial(result, {
        options: o,
        dataset,
        winner: choice,
        backboneId: backbone.spec.id,
        counts: { train: trainIds.size, validation: valIds.size },
        numClasses,
        extractRate,
        budgetLeft: o.budget - (performance.now() - searchStart) / 1000,
      });
      // The fine-tuned model directory (with its report) was written by the fine-tuning run.
      if (trial) return await withInt8();
    }
    if (o.out) {
      emit({ type: 'stage', stage: 'export', message: `writing ${o.out}` });
      result.manifest = await exportClassifier({
        backbone: chosen.backbone,
        tensor: choice.tensor,
        head,
        labels: result.labels,
        out: o.out,
        options: o,
        result,
      });
      result.dir = o.out;
    }
    return await withInt8();
  } finally {
    await head.release();
  }
}
