/**
 * The recipes of strategies/finetune/recipes.ts on a text encoder (SequenceClassifier), with the pieces images
 * use: `gradientHead` (knn/ncm refused), `recipePhases` (LP-FT: a probe phase, then the unfrozen phase at
 * lr / ftLrDivisor), `fitLinearProbe` (L-BFGS on the frozen features the head reads) and `keepProbeDecision`
 * (the probe is shipped when fine-tuning ends below it on the validation split).
 */
import { GraftError } from '../errors.js';
import { accuracy } from '../eval/metrics.js';
import type { FeatureMatrix } from '../features/matrix.js';
import { gradientHead, recipePhases, type Phase, type Strategy } from '../strategies/finetune/recipes.js';
import { predictAll, type DataSource } from '../train/index.js';
import { fitOptionsFor, type ResolvedTextTrainingArguments } from '../text/finetune/arguments.js';
import { noDecayParams } from '../text/finetune/params.js';
import type { FitOptions } from '../train/options.js';
import type { PoolerKind } from '../text/finetune/graph.js';
import { SequenceClassifier, type SequenceClassifierOptions } from '../text/finetune/model.js';
import { FINETUNE_DEFAULTS } from './finetune-options.js';
import { keepProbeDecision, type KeepDecision } from './keep-probe.js';
import { fitLinearProbe, type LinearProbe } from './probe-warm-start.js';
import type { TrainTextClassifierOptions } from './train-text.js';

/** The strategies that train through the encoder (linear-probe is the frozen-feature path). */
export type TextTuneStrategy = Exclude<Strategy, 'linear-probe'>;

/** The strategy `o` asks for: `strategy`, else the older `method` ('features' = linear-probe). */
export function textStrategy(o: TrainTextClassifierOptions, tfidf: boolean): Strategy {
  if (o.strategy !== undefined && o.method !== undefined)
    throw new GraftError(
      'BAD_OPTION',
      "give 'strategy' or the older 'method', not both ('features' is strategy 'linear-probe', 'finetune' is 'fine-tune')",
    );
  if (o.strategy !== undefined) {
    if (!['linear-probe', 'fine-tune', 'lp-ft', 'scratch'].includes(o.strategy))
      throw new GraftError(
        'BAD_OPTION',
        `strategy must be linear-probe, fine-tune, lp-ft or scratch, got '${String(o.strategy)}'`,
      );
    return o.strategy;
  }
  if (o.method === undefined) return tfidf ? 'linear-probe' : 'fine-tune';
  if (o.method !== 'finetune' && o.method !== 'features')
    throw new GraftError('BAD_OPTION', `method must be 'finetune' or 'features', got '${String(o.method)}'`);
  return o.method === 'features' ? 'linear-probe' : 'fine-tune';
}

/** The classifier's head for a recipe: `--head mlp` is one tanh layer of the encoder's width (BERT's pooler). */
export function textPooler(o: TrainTextClassifierOptions, strategy: Strategy): PoolerKind {
  const kind = gradientHead(o.head ?? 'linear', strategy);
  if (kind === 'linear') return o.pooler ?? 'auto';
  if (o.pooler !== undefined && o.pooler !== 'tanh')
    throw new GraftError(
      'BAD_OPTION',
      `--head mlp is the tanh pooler layer + linear; pooler '${o.pooler}' contradicts it: drop pooler or use --head linear`,
    );
  return 'tanh';
}

/** The phases the recipe runs (LP-FT: the probe phase, then the unfrozen one at lr / ftLrDivisor). */
export function textPhases(
  strategy: TextTuneStrategy,
  o: TrainTextClassifierOptions,
  args: ResolvedTextTrainingArguments,
): Phase[] {
  return recipePhases({
    strategy,
    unfreeze: o.unfreeze ?? 'all',
    epochs: args.numTrainEpochs,
    lr: args.learningRate,
    freezeEpochs: o.freezeEpochs ?? FINETUNE_DEFAULTS.freezeEpochs,
    ftLrDivisor: o.ftLrDivisor ?? FINETUNE_DEFAULTS.ftLrDivisor,
  });
}

/**
 * A text learner's Trainer options for one recipe phase: Hugging Face's AdamW (no decay on biases and LayerNorm
 * weights), linear warmup and decay over the phase's own steps, clipping — at the phase's epochs and learning rate.
 */
export function textPhaseFit(
  model: SequenceClassifier,
  args: ResolvedTextTrainingArguments,
  stepsPerEpoch: number,
): (phase: Phase) => Partial<FitOptions> {
  return (phase) =>
    fitOptionsFor(
      { ...args, numTrainEpochs: phase.epochs, learningRate: phase.lr },
      noDecayParams(model.inferenceModel, [...model.params.keys()]),
      stepsPerEpoch * phase.epochs,
    );
}

/** The frozen-encoder features the head reads, for every row of `data` in order. */
async function featuresOf(
  model: SequenceClassifier,
  data: DataSource,
  batchSize: number,
): Promise<FeatureMatrix> {
  const rows: Float32Array[] = [];
  const labels: Int32Array[] = [];
  for await (const batch of data.batches(batchSize, 0, false)) {
    rows.push(await model.features(batch.inputs));
    labels.push(batch.labels);
  }
  const n = labels.reduce((a, l) => a + l.length, 0);
  const all = new Float32Array(rows.reduce((a, r) => a + r.length, 0));
  let at = 0;
  for (const r of rows) {
    all.set(r, at);
    at += r.length;
  }
  const joined = new Int32Array(n);
  at = 0;
  for (const l of labels) {
    joined.set(l, at);
    at += l.length;
  }
  return { data: all, dim: n ? all.length / n : 0, labels: joined };
}

/** LP-FT's probe on a linear head: fitted on the frozen features, then set as the classifier's head. */
export async function probeLinearHead(
  model: SequenceClassifier,
  data: { train: DataSource; evaluation: DataSource; held: DataSource },
  numClasses: number,
  args: ResolvedTextTrainingArguments,
  session?: SequenceClassifierOptions['session'],
): Promise<LinearProbe> {
  const batch = args.perDeviceEvalBatchSize;
  const probe = await fitLinearProbe(
    await featuresOf(model, data.train, batch),
    {
      validation: await featuresOf(model, data.evaluation, batch),
      held: await featuresOf(model, data.held, batch),
    },
    { numClasses, seed: args.seed, ...(session ? { session } : {}) },
  );
  model.params.get('head/dense0/weight')!.set(probe.weight);
  model.params.get('head/dense0/bias')!.set(probe.bias);
  return probe;
}

/**
 * The guard after LP-FT with a linear probe: both on the validation rows; when the probe wins, the classifier's
 * weights go back to the pre-trained encoder and the probe's head, so what is evaluated and exported is the probe.
 */
export async function keepTextProbe(
  model: SequenceClassifier,
  probe: LinearProbe,
  evaluation: DataSource,
  batchSize: number,
): Promise<KeepDecision | undefined> {
  const val = probe.probs['validation'];
  if (!val || val.labels.length === 0) return undefined;
  const tuned = await predictAll(model, evaluation, batchSize);
  const decision = keepProbeDecision({
    probe: accuracy(val.probs, val.labels),
    fineTuned: accuracy(tuned.probs, tuned.labels),
  });
  if (decision.probe) {
    model.restorePretrainedEncoder();
    model.params.get('head/dense0/weight')!.set(probe.weight);
    model.params.get('head/dense0/bias')!.set(probe.bias);
  }
  return decision;
}
