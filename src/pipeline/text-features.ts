/** The 'features' path of trainTextClassifier: frozen encoder → pooled features (cached) → fitHead → export. */
import type { CandidateScore } from '../strategies/auto-select.js';
import type { TextDataset } from '../data/types.js';
import { evaluateHeldOut } from '../eval/report.js';
import { mergeBackboneAndHead } from '../export/merge.js';
import { matrixForIds, type FeatureMatrix } from '../features/matrix.js';
import { HEAD_TRAINING_DEFAULTS } from '../heads/fit-dense.js';
import { TRAIN_DEFAULTS, type HeadChoice } from './options.js';
import { bestCandidate, scoreCandidates } from '../strategies/auto-select.js';
import { fitHead, type FittedHead, type HeadKind, type HeadOptions } from '../heads/fitted.js';
import {
  resolveTextTrainingArguments,
  type ResolvedTextTrainingArguments,
} from '../text/finetune/arguments.js';
import type { SessionOptions } from '../runtime/session.js';
import { TextFeatureExtractor } from '../text/extract.js';
import { loadTextEncoder, type LoadedTextEncoder } from '../text/encoder.js';
import { TEXT_FEATURES } from '../text/pooling.js';
import type { TextWarning } from '../text/warnings.js';
import { writeTextModel } from './text-export.js';
import type { TextSplits, TextTrainResult, TrainTextClassifierOptions } from './train-text.js';

/**
 * The head options of every text 'features' path (frozen encoder or tf-idf). A head on cached features trains
 * like the image path's (pipeline/options.ts defaults: 60 epochs at lr 1e-3, or L-BFGS for linear heads), not with
 * the fine-tuning defaults (3 epochs at 5e-5, which left an MLP head at chance); what the user set explicitly
 * (the HF-style arguments, and the head options images share: hidden, k, optimizer, label smoothing, patience)
 * is used as given.
 */
export function textHeadOptions(
  o: TrainTextClassifierOptions,
  args: ResolvedTextTrainingArguments,
  session: SessionOptions | undefined,
): HeadOptions {
  return {
    ...HEAD_TRAINING_DEFAULTS,
    kind: o.head === undefined || o.head === 'auto' ? 'linear' : o.head,
    hidden: o.hidden ?? TRAIN_DEFAULTS.hidden,
    dropout: o.dropout ?? TRAIN_DEFAULTS.dropout,
    k: o.k ?? TRAIN_DEFAULTS.k,
    epochs: o.args.numTrainEpochs ?? TRAIN_DEFAULTS.epochs,
    batchSize: o.args.perDeviceTrainBatchSize ?? TRAIN_DEFAULTS.batchSize,
    lr: o.args.learningRate ?? TRAIN_DEFAULTS.lr,
    optimizer: o.optimizer ?? TRAIN_DEFAULTS.optimizer,
    weightDecay: o.args.weightDecay ?? TRAIN_DEFAULTS.weightDecay,
    labelSmoothing: o.labelSmoothing ?? TRAIN_DEFAULTS.labelSmoothing,
    patience: o.patience ?? TRAIN_DEFAULTS.patience,
    seed: args.seed,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(session ? { session } : {}),
  };
}

/**
 * The shared half of every text 'features' path: fits the head on the training rows (early stopping on the
 * evaluation rows) and scores it on the test rows, or on the evaluation rows when there is no test split.
 */
export async function fitTextHead(
  s: TextSplits,
  requested: HeadOptions,
  m: { train: FeatureMatrix; evaluation: FeatureMatrix; test?: FeatureMatrix },
  textWarnings: TextWarning[],
  choice: HeadChoice = requested.kind,
  budgetS: number = TRAIN_DEFAULTS.budget,
): Promise<{ head: FittedHead; result: TextTrainResult; kind: HeadKind }> {
  const tt = performance.now();
  // `auto`: the heads compete by cross-validation on the training rows, as they do on image features.
  const options =
    choice === 'auto'
      ? {
          ...requested,
          kind: bestCandidate(
            await scoreCandidates(
              [{ model: 'text', tensor: TEXT_FEATURES, data: m.train }],
              s.labels.length,
              requested,
              { heads: ['linear', 'knn', 'ncm', 'mlp'], budgetMs: budgetS * 1000 },
            ),
          ).head,
        }
      : requested;
  const head = await fitHead(m.train, s.labels.length, options, m.evaluation);
  const trainSeconds = (performance.now() - tt) / 1000;
  const held = m.test ?? m.evaluation;
  try {
    const result: TextTrainResult = {
      method: 'features',
      strategy: 'linear-probe',
      labels: s.labels,
      evaluation: evaluateHeldOut(await head.predictProbs(held), held.labels),
      evaluatedOn: m.test ? 'test' : 'evaluation',
      counts: {
        train: m.train.labels.length,
        evaluation: m.evaluation.labels.length,
        test: m.test ? m.test.labels.length : 0,
      },
      ...(head.history ? { history: head.history } : {}),
      logHistory: [],
      checkpoints: [],
      dataWarnings: s.warnings,
      textWarnings,
      seconds: { train: trainSeconds, total: 0 },
    };
    return { head, result, kind: options.kind };
  } catch (e) {
    await head.release();
    throw e;
  }
}

/** The frozen encoder's pooled-feature extractor (cached), as every text 'features' path configures it. */
export function textFeatureExtractor(
  o: TrainTextClassifierOptions,
  args: ResolvedTextTrainingArguments,
  encoder: LoadedTextEncoder,
): Promise<TextFeatureExtractor> {
  return TextFeatureExtractor.fromEncoder(encoder, {
    pooling: o.pooling ?? 'cls',
    normalize: o.normalize ?? false,
    maxLength: args.maxSeqLength,
    batchSize: args.perDeviceEvalBatchSize,
    ...(o.cacheDir !== undefined ? { cacheDir: o.cacheDir } : {}),
    ...(o.threads ? { session: { threads: o.threads } } : {}),
  });
}

/** `candidates`: the automatic search's decision table when this encoder won it. */
export async function runTextFeatures(
  o: TrainTextClassifierOptions,
  s: TextSplits,
  candidates?: CandidateScore[],
): Promise<TextTrainResult> {
  const t0 = performance.now();
  const args = resolveTextTrainingArguments(o.args);
  const encoder = await loadTextEncoder(o.model, { hub: o.hub });
  const session = o.threads ? { threads: o.threads } : undefined;
  const fx = await textFeatureExtractor(o, args, encoder);
  try {
    const idsOf = (ds: TextDataset) => new Set(ds.examples.map((e) => e.id));
    const all = [...s.train.examples, ...s.evaluation.examples, ...s.test.examples];
    const set = await fx.extract(all, { signal: o.signal });
    const { head, result, kind } = await fitTextHead(
      s,
      textHeadOptions(o, args, session),
      {
        train: matrixForIds(set, idsOf(s.train)),
        evaluation: matrixForIds(set, idsOf(s.evaluation)),
        ...(s.test.examples.length > 0 ? { test: matrixForIds(set, idsOf(s.test)) } : {}),
      },
      set.warnings,
      o.head ?? 'linear',
      o.budget,
    );
    Object.assign(result, { model: o.model, head: kind }, candidates ? { candidates } : {});
    if (o.export !== false) {
      const model = mergeBackboneAndHead(fx.pooledModel, TEXT_FEATURES, head.exportGraph());
      const inputs = fx.pooledModel.graph.inputs.filter(
        (v) => !fx.pooledModel.graph.initializers.has(v.name),
      );
      const lowercase = encoder.tokenizer.lowercase;
      result.manifest = await writeTextModel({
        model,
        encoder,
        source: o.model,
        out: args.outputDir,
        inputs: inputs.map((v) => v.name),
        preprocess: {
          kind: 'text',
          maxLength: args.maxSeqLength,
          pooling: fx.pooling,
          normalize: fx.normalize,
          ...(lowercase === undefined ? {} : { lowercase }),
        },
        featureTensor: TEXT_FEATURES,
        head: head.describe(),
        training: {
          method: 'features',
          strategy: 'linear-probe',
          head: kind,
          data: typeof o.data === 'string' ? o.data : o.data.name,
        },
        result,
      });
      result.dir = args.outputDir;
    }
    await head.release();
    result.seconds.total = (performance.now() - t0) / 1000;
    return result;
  } finally {
    await fx.release();
  }
}
