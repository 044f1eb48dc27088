/** The 'finetune' path of trainTextClassifier: SequenceClassifier + graft's Trainer with HF-style arguments. */
import { mkdir } from 'node:fs/promises';
import { GraftError } from '../errors.js';
import { evaluate } from '../eval/report.js';
import { Trainer, predictAll, type DataSource, type TrainingState } from '../train/index.js';
import { fitOptionsFor, resolveTextTrainingArguments } from '../text/finetune/arguments.js';
import { TextDataSource } from '../text/finetune/data.js';
import {
  HfTrainerCallback,
  listCheckpointDirs,
  readCheckpointDir,
  type TrainerStateJson,
} from '../text/finetune/hf-callbacks.js';
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
  const r = evaluate(probs, labels);
  return {
    eval_loss: r.logLoss,
    eval_accuracy: r.accuracy,
    eval_f1: r.macroF1,
    eval_balanced_accuracy: r.balancedAccuracy,
  };
}

async function resumePoint(
  outputDir: string,
  from: string | boolean | undefined,
): Promise<{ state: TrainingState; trainer: TrainerStateJson } | undefined> {
  if (!from) return undefined;
  let path = typeof from === 'string' ? from : undefined;
  if (from === true) {
    path = (await listCheckpointDirs(outputDir)).at(-1)?.path;
    if (!path) throw new GraftError('BAD_OPTION', `resumeFromCheckpoint: no checkpoint-* in '${outputDir}'`);
  }
  return readCheckpointDir(path!);
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
    const stepsPerEpoch = Math.ceil(
      Math.ceil(train.size / args.perDeviceTrainBatchSize) / args.gradientAccumulationSteps,
    );
    const totalSteps = stepsPerEpoch * args.numTrainEpochs;
    const resumed = await resumePoint(args.outputDir, args.resumeFromCheckpoint);
    const hf = new HfTrainerCallback(
      args,
      stepsPerEpoch,
      () => evalMetrics(model, evaluation, args.perDeviceEvalBatchSize),
      o.onLog,
      resumed?.trainer,
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
      const best = await readCheckpointDir(hf.bestModelCheckpoint);
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
      evaluation: evaluate(probs, labels),
      evaluatedOn: test ? 'test' : 'evaluation',
      counts: { train: train.size, evaluation: evaluation.size, test: test?.size ?? 0 },
      history,
      logHistory: hf.logHistory,
      checkpoints: (await listCheckpointDirs(args.outputDir)).map((c) => c.path),
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
