/**
 * The recipes that train through a text encoder (fine-tune, LP-FT, scratch): a SequenceClassifier run by the one
 * recipe runner (learner/run-phases.ts), with Hugging Face's training arguments, logging, evaluation and save
 * strategies (HfTrainerCallback) and the one checkpoint format.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { evaluateHeldOut } from '../eval/report.js';
import { CheckpointWriter } from '../train/callbacks/checkpoint.js';
import { runPhasesOn, stepsPerEpoch } from '../learner/run-phases.js';
import { listCheckpoints, readCheckpoint, type RunOptions } from '../train/checkpoints.js';
import { predictAll, type DataSource } from '../train/index.js';
import {
  resolveTextTrainingArguments,
  type ResolvedTextTrainingArguments,
} from '../text/finetune/arguments.js';
import { TextDataSource } from '../text/finetune/data.js';
import { HfTrainerCallback } from '../text/finetune/hf-callbacks.js';
import { SequenceClassifier } from '../text/finetune/model.js';
import type { Unfreeze } from '../text/finetune/params.js';
import { loadTextEncoder } from '../text/encoder.js';
import { TextWarnings } from '../text/warnings.js';
import type { TextDataset } from '../data/types.js';
import type { TextTokenizer } from '../text/tokenizer.js';
import { exportFinetuned } from './text-export.js';
import {
  keepTextProbe,
  probeLinearHead,
  textPhaseFit,
  textPhases,
  textPooler,
  type TextTuneStrategy,
} from './text-recipes.js';
import type { TextSplits, TextTrainResult, TrainTextClassifierOptions } from './train-text.js';

/** Eval metrics under Hugging Face's names. */
export async function evalMetrics(
  model: SequenceClassifier,
  data: DataSource,
  batchSize: number,
): Promise<Record<string, number>> {
  const { probs, labels } = await predictAll(model, data, batchSize);
  const r = evaluateHeldOut(probs, labels);
  return {
    eval_loss: r.logLoss,
    eval_accuracy: r.accuracy,
    eval_f1: r.macroF1,
    eval_balanced_accuracy: r.balancedAccuracy,
  };
}

/** What a text fine-tuning run's weights depend on: a resume must match it. */
function textRunOptions(
  o: TrainTextClassifierOptions,
  a: ResolvedTextTrainingArguments,
  labels: readonly string[],
  strategy: TextTuneStrategy,
): RunOptions {
  return {
    modality: 'text',
    strategy,
    model: o.model,
    labels,
    unfreeze: o.unfreeze ?? 'all',
    pooler: o.pooler ?? 'auto',
    dropout: o.dropout ?? 0.1,
    epochs: a.numTrainEpochs,
    batchSize: a.perDeviceTrainBatchSize,
    accumulateSteps: a.gradientAccumulationSteps,
    lr: a.learningRate,
    warmupRatio: a.warmupRatio,
    warmupSteps: a.warmupSteps,
    weightDecay: a.weightDecay,
    adam: [a.adamBeta1, a.adamBeta2, a.adamEpsilon],
    maxGradNorm: a.maxGradNorm,
    seed: a.seed,
    maxSeqLength: a.maxSeqLength,
  };
}

export async function runTextFinetune(
  o: TrainTextClassifierOptions,
  s: TextSplits,
  strategy: TextTuneStrategy = 'fine-tune',
): Promise<TextTrainResult> {
  const t0 = performance.now();
  const args = resolveTextTrainingArguments(o.args);
  const encoder = await loadTextEncoder(o.model, { hub: o.hub });
  const session = o.threads ? { threads: o.threads } : undefined;
  const pooler = textPooler(o, strategy);
  const recipe = textPhases(strategy, o, args);
  // LP-FT with a linear head: the probe phase is a converged L-BFGS probe (below), so only the tuning phase trains.
  const linearProbe = recipe.length > 1 && pooler !== 'tanh';
  const phases = linearProbe ? recipe.slice(1) : recipe;
  const model = await SequenceClassifier.create(encoder.model, {
    numClasses: s.labels.length,
    pooler,
    dropout: o.dropout ?? 0.1,
    seed: args.seed,
    init: strategy === 'scratch' ? 'scratch' : 'pretrained',
    unfreeze: phases[0]!.unfreeze as Unfreeze,
    ...(session ? { session } : {}),
  });
  try {
    const warnings = new TextWarnings();
    const source = (ds: TextDataset, seed: number): TextDataSource => {
      for (const e of ds.examples) warnings.inspect(e.id, e.source);
      const src = sourceOf(encoder.tokenizer, ds, args.maxSeqLength, model.inputs, seed);
      for (const i of src.truncated) warnings.add('TRUNCATED', ds.examples[i]!.id);
      return src;
    };
    const train = source(s.train, args.seed);
    const evaluation = source(s.evaluation, 0);
    const test = s.test.examples.length ? source(s.test, 0) : undefined;
    await mkdir(args.outputDir, { recursive: true });
    const held = test ?? evaluation;
    const probe = linearProbe
      ? await probeLinearHead(model, { train, evaluation, held }, s.labels.length, args, session)
      : undefined;
    const runner = {
      trainSize: train.size,
      batchSize: args.perDeviceTrainBatchSize,
      accumulateSteps: args.gradientAccumulationSteps,
      seed: args.seed,
    };
    const perEpoch = stepsPerEpoch(runner);
    const hf: HfTrainerCallback[] = [];
    const tt = performance.now();
    const { results } = await runPhasesOn(model, phases, {
      ...runner,
      // phase i's batches are drawn in the order of seed + i, like every other modality's
      data: (i, seed) => Promise.resolve({ train: i === 0 ? train : train.withSeed(seed), cached: true }),
      fit: textPhaseFit(model, args, perEpoch),
      checkpointDir: join(args.outputDir, 'checkpoints'),
      ...(args.saveTotalLimit !== undefined ? { saveTotalLimit: args.saveTotalLimit } : {}),
      checkpoints: (c) => {
        const writer = new CheckpointWriter({ ...c, greaterIsBetter: args.greaterIsBetter });
        const evaluate = () => evalMetrics(model, evaluation, args.perDeviceEvalBatchSize);
        hf.push(new HfTrainerCallback(args, perEpoch, evaluate, writer, o.onLog));
        return { callback: hf.at(-1)!, writer };
      },
      resume: args.resumeFromCheckpoint ?? false,
      run: textRunOptions(o, args, s.labels, strategy),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    const trainSeconds = (performance.now() - tt) / 1000;
    const history = results.at(-1)?.history;
    const last = hf.at(-1);
    if (args.loadBestModelAtEnd && last?.bestModelCheckpoint) {
      const best = await readCheckpoint(last.bestModelCheckpoint);
      for (const [k, v] of best.state.params) model.params.get(k)?.set(v);
    }
    const kept = probe
      ? await keepTextProbe(model, probe, evaluation, args.perDeviceEvalBatchSize)
      : undefined;
    const { probs, labels } = await predictAll(model, held, args.perDeviceEvalBatchSize);
    const checkpointDir = join(args.outputDir, 'checkpoints');
    const result: TextTrainResult = {
      method: 'finetune',
      strategy,
      ...(kept ? { kept: kept.probe ? 'probe' : 'fine-tuned', validation: kept.validation } : {}),
      labels: s.labels,
      evaluation: evaluateHeldOut(probs, labels),
      evaluatedOn: test ? 'test' : 'evaluation',
      counts: { train: train.size, evaluation: evaluation.size, test: test?.size ?? 0 },
      ...(history ? { history } : {}),
      logHistory: last?.logHistory ?? [],
      checkpoints: (await listCheckpoints(checkpointDir)).map((c) => c.path),
      ...(last?.bestModelCheckpoint
        ? { bestModelCheckpoint: last.bestModelCheckpoint, bestMetric: last.bestMetric }
        : {}),
      dataWarnings: s.warnings,
      textWarnings: warnings.toArray(),
      seconds: { train: trainSeconds, total: 0 },
    };
    if (o.export !== false) {
      result.manifest = await exportFinetuned({ model, encoder, source: o.model, args, options: o, result });
      result.dir = args.outputDir;
    }
    result.seconds.total = (performance.now() - t0) / 1000;
    return result;
  } finally {
    await model.release();
  }
}

export function sourceOf(
  tokenizer: TextTokenizer,
  ds: TextDataset,
  maxLength: number,
  inputs: readonly string[],
  seed: number,
): TextDataSource {
  return TextDataSource.fromTexts(
    tokenizer,
    ds.examples.map((e) => e.source),
    ds.examples.map((e) => e.label),
    { maxLength, inputs, seed },
  );
}
