/** The 'finetune' path of trainTextClassifier: SequenceClassifier + graft's Trainer with HF-style arguments. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { evaluateHeldOut } from '../eval/report.js';
import { CheckpointWriter } from '../train/callbacks/checkpoint.js';
import {
  assertSameRun,
  findResumeCheckpoint,
  listCheckpoints,
  readCheckpoint,
  type RunOptions,
} from '../train/checkpoints.js';
import { Trainer, predictAll, type DataSource } from '../train/index.js';
import {
  fitOptionsFor,
  resolveTextTrainingArguments,
  type ResolvedTextTrainingArguments,
} from '../text/finetune/arguments.js';
import { TextDataSource } from '../text/finetune/data.js';
import { HfTrainerCallback } from '../text/finetune/hf-callbacks.js';
import { SequenceClassifier } from '../text/finetune/model.js';
import { noDecayParams } from '../text/finetune/params.js';
import { loadTextEncoder } from '../text/encoder.js';
import { TextWarnings } from '../text/warnings.js';
import type { TextDataset } from '../data/types.js';
import type { TextTokenizer } from '../text/tokenizer.js';
import { exportFinetuned } from './text-export.js';
import {
  keepTextProbe,
  probeHeadOnly,
  probeLinearHead,
  textPhases,
  textPooler,
  type TextTuneStrategy,
} from './text-recipes.js';
import type { Unfreeze } from '../text/finetune/params.js';
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
  trainSize: number,
): RunOptions {
  return {
    modality: 'text',
    recipe: 'fine-tune',
    model: o.model,
    labels,
    train: trainSize,
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
  const phases = textPhases(strategy, o, args);
  const create = {
    numClasses: s.labels.length,
    pooler: textPooler(o, strategy),
    dropout: o.dropout ?? 0.1,
    seed: args.seed,
    init: strategy === 'scratch' ? ('scratch' as const) : ('pretrained' as const),
    ...(session ? { session } : {}),
  };
  const linearProbe = phases.probe !== undefined && create.pooler !== 'tanh';
  // LP-FT with an MLP head: the head trains alone first (its probe phase), and the full model starts from it.
  const headStart =
    phases.probe && !linearProbe
      ? await probeHeadOnly(
          encoder.model,
          create,
          sourceOf(
            encoder.tokenizer,
            s.train,
            args.maxSeqLength,
            encoder.model.graph.inputs
              .map((v) => v.name)
              .filter((n) => !encoder.model.graph.initializers.has(n)),
            args.seed,
          ),
          phases.probe,
          args,
          o.signal,
        )
      : undefined;
  const model = await SequenceClassifier.create(encoder.model, {
    ...create,
    unfreeze: phases.tune.unfreeze as Unfreeze,
    ...(headStart ? { initialParams: headStart } : {}),
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
    const checkpointDir = join(args.outputDir, 'checkpoints');
    const stepsPerEpoch = Math.ceil(
      Math.ceil(train.size / args.perDeviceTrainBatchSize) / args.gradientAccumulationSteps,
    );
    const totalSteps = stepsPerEpoch * args.numTrainEpochs;
    const run = textRunOptions(o, args, s.labels, train.size);
    const from = args.resumeFromCheckpoint;
    const resumed = from ? await findResumeCheckpoint(from, checkpointDir) : undefined;
    if (resumed) assertSameRun(resumed, run);
    const writer = new CheckpointWriter({
      dir: checkpointDir,
      saveTotalLimit: args.saveTotalLimit,
      run,
      greaterIsBetter: args.greaterIsBetter,
      ...(resumed ? { previous: resumed.trainer } : {}),
    });
    const hf = new HfTrainerCallback(
      args,
      stepsPerEpoch,
      () => evalMetrics(model, evaluation, args.perDeviceEvalBatchSize),
      writer,
      o.onLog,
    );
    const held = test ?? evaluation;
    const probe = linearProbe
      ? await probeLinearHead(model, { train, evaluation, held }, s.labels.length, args, session)
      : undefined;
    const fitOptions = fitOptionsFor(
      { ...args, learningRate: phases.tune.lr },
      noDecayParams(model.inferenceModel, [...model.params.keys()]),
      totalSteps,
    );
    const tt = performance.now();
    const history = await new Trainer().fit(model, train, {
      ...fitOptions,
      callbacks: [hf],
      signal: o.signal,
      ...(resumed ? { resume: resumed.state } : {}),
    });
    const trainSeconds = (performance.now() - tt) / 1000;
    if (args.loadBestModelAtEnd && hf.bestModelCheckpoint) {
      const best = await readCheckpoint(hf.bestModelCheckpoint);
      for (const [k, v] of best.state.params) model.params.get(k)?.set(v);
    }
    const kept = probe
      ? await keepTextProbe(model, probe, evaluation, encoder.model, args.perDeviceEvalBatchSize)
      : undefined;
    const { probs, labels } = await predictAll(model, held, args.perDeviceEvalBatchSize);
    const result: TextTrainResult = {
      method: 'finetune',
      strategy,
      ...(kept ? { kept: kept.probe ? 'probe' : 'fine-tuned', validation: kept.validation } : {}),
      labels: s.labels,
      evaluation: evaluateHeldOut(probs, labels),
      evaluatedOn: test ? 'test' : 'evaluation',
      counts: { train: train.size, evaluation: evaluation.size, test: test?.size ?? 0 },
      history,
      logHistory: hf.logHistory,
      checkpoints: (await listCheckpoints(checkpointDir)).map((c) => c.path),
      ...(hf.bestModelCheckpoint
        ? { bestModelCheckpoint: hf.bestModelCheckpoint, bestMetric: hf.bestMetric }
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
