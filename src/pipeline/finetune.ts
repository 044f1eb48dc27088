/**
 * Fine-tuning end to end: data → splits → backbone → recipe phases on a BackboneTrainable (frozen prefix run
 * once, activations cached; augmented items bypass the cache) → held-out evaluation → one model.onnx (fine-tuned
 * backbone + head, any ONNX Runtime) + graft.json, checkpoints under <out>/checkpoints with exact resume.
 */
import { basename, dirname, join } from 'node:path';
import { GraftError } from '../errors.js';
import { evaluateHeldOut } from '../eval/report.js';
import type { ImagePreprocess } from '../models/spec.js';
import { loadBackbone } from '../models/registry.js';
import { ActivationCache } from '../strategies/finetune/activations.js';
import { BackboneTrainable } from '../strategies/finetune/backbone-trainable.js';
import { gradientHead, recipePhases } from '../strategies/finetune/recipes.js';
import { linearProbe, type LinearProbe } from './probe-warm-start.js';
import { chooseCut } from './choose-cut.js';
import { parseFeatureId } from '../features/feature-id.js';
import { prepareImageData } from './image-data.js';
import { activationsFor, runPhases, type PhaseResult } from '../strategies/finetune/run-phases.js';
import { denseSpec } from '../heads/fitted.js';
import { predictAll } from '../train/validation.js';
import { arrayDataSource } from '../train/data-source.js';
import { exportFineTuned } from './finetune-export.js';
import { headlineMetrics } from './export.js';
import { resolveFineTuneOptions, type FineTuneClassifierOptions } from './finetune-options.js';
import type { EvaluationReport } from '../eval/report.js';
import { keepProbe } from './keep-probe.js';
import type { Int8Record, ModelManifest } from '../export/manifest.js';
import { checkInt8Request, quantizeTrained } from '../quantize/after-training.js';
import type { History } from '../train/history.js';
import { preflight } from './preflight.js';
import { reportData } from './model-dir.js';
import { linearProbeClassifier } from './linear-probe.js';
import { findResumeCheckpoint } from '../train/checkpoints.js';
import { epochEvent } from './events.js';
import { givenOptions, RECIPE_OPTIONS, refuseUnusedOptions } from './option-scope.js';

/** Where checkpoints go: checkpointDir, else <out>/checkpoints, else where `resume` points. */
export function checkpointRoot(o: {
  checkpointDir?: string;
  out?: string;
  resume?: boolean | string;
}): string | undefined {
  if (o.checkpointDir) return o.checkpointDir;
  if (o.out) return join(o.out, 'checkpoints');
  if (typeof o.resume !== 'string') return undefined;
  return /^checkpoint-\d+$/.test(basename(o.resume)) ? dirname(o.resume) : o.resume;
}

export interface FineTuneResult {
  labels: string[];
  featureTensor: string;
  evaluation: EvaluationReport;
  evaluatedOn: 'test' | 'validation';
  /** History of the last phase. */
  history?: History;
  counts: { train: number; validation: number; test: number };
  seconds: { train: number; total: number };
  dir?: string;
  manifest?: ModelManifest;
  /** model.int8.onnx's record in graft.json, when `int8` was asked for. */
  int8?: Int8Record;
  strategy: FineTuneClassifierOptions['strategy'];
  phases: { name: string; unfreeze: string; epochs: number; lr: number; skipped: boolean }[];
  /** Number of trainable backbone tensors in the last phase (head excluded). */
  trainableTensors: number;
  /** False when augmentation bypassed the activation cache for training items. */
  activationsCached: boolean;
  /** LP-FT with a validation split: which model was shipped, and both validation accuracies. */
  kept?: 'probe' | 'fine-tuned';
  validation?: { probe: number; fineTuned: number };
}

/** The fine-tuning head (recipes.ts gradientHead: knn and ncm are refused). */
function headKind(o: FineTuneClassifierOptions): {
  kind: 'linear' | 'mlp';
  hidden: number[];
  dropout: number;
} {
  return { kind: gradientHead(o.head, o.strategy), hidden: o.hidden, dropout: o.dropout };
}

/** Mini-batch optimizers only: `auto` is Adam here; full-batch L-BFGS cannot step through a backbone. */
function optimizerOf(o: FineTuneClassifierOptions): 'adam' | 'adamw' | 'sgd' {
  if (o.optimizer === 'lbfgs')
    throw new GraftError(
      'BAD_OPTION',
      `--optimizer lbfgs is full-batch and fits heads on cached features only; fine-tuning (--strategy ${o.strategy}) uses adam, adamw or sgd`,
    );
  return o.optimizer === 'adamw' || o.optimizer === 'sgd' ? o.optimizer : 'adam';
}

function inputShape(p: ImagePreprocess): number[] {
  const [h, w] = p.size;
  return p.layout === 'NCHW' ? [p.channels, h, w] : [h, w, p.channels];
}

export async function fineTuneClassifier(
  input: Partial<FineTuneClassifierOptions> & Pick<FineTuneClassifierOptions, 'data'>,
): Promise<FineTuneResult> {
  const o = resolveFineTuneOptions(input);
  refuseUnusedOptions(
    {
      modality: 'image',
      strategy: o.strategy,
      ...(input.head !== undefined ? { head: input.head } : {}),
      ...(input.features !== undefined ? { features: input.features } : {}),
      ...(input.optimizer !== undefined ? { optimizer: input.optimizer } : {}),
    },
    givenOptions(input, RECIPE_OPTIONS),
  );
  if (o.strategy === 'linear-probe') return linearProbeClassifier(input, o);
  checkInt8Request(o.int8, o.out);
  await preflight({ out: o.out, cacheDir: o.cacheDir });
  const checkpointDir = checkpointRoot(o);
  if (o.resume) {
    // fail before any work when there is nothing to resume from
    if (!checkpointDir)
      throw new GraftError('BAD_OPTION', 'resume needs a checkpoint directory: give out or checkpointDir');
    await findResumeCheckpoint(o.resume, checkpointDir);
  }
  const t0 = performance.now();
  const emit = o.onEvent ?? (() => {});
  const { dataset, split, train, counts } = await prepareImageData(o, emit);

  emit({ type: 'stage', stage: 'backbone', message: `importing ${o.model}` });
  const backbone = await loadBackbone(o.model);
  const pre = backbone.spec.preprocess;
  if (pre.kind !== 'image') throw new GraftError('BAD_OPTION', `${o.model} is not an image model`);
  const numClasses = dataset.labels.length;
  // Scratch trains every layer from the input: there is no pre-trained cut to choose.
  const featureTensor =
    o.features === 'auto' && o.strategy !== 'scratch'
      ? await chooseCut(backbone, train.examples, o, numClasses, emit)
      : o.features === 'final' || o.features === 'auto'
        ? backbone.spec.featureTensor
        : o.features;
  const feature = parseFeatureId(featureTensor);
  const session = o.threads ? { threads: o.threads } : undefined;
  const model = await BackboneTrainable.create({
    backbone: backbone.model,
    inputName: backbone.spec.inputName,
    inputShape: inputShape(pre),
    featureTensor: feature.tensor,
    featureGrid: feature.grid,
    numClasses: dataset.labels.length,
    head: denseSpec(headKind(o)),
    unfreeze: 'none',
    bnMode: o.bnMode,
    loss: { labelSmoothing: o.labelSmoothing },
    seed: o.seed,
    init: o.strategy === 'scratch' ? 'scratch' : 'pretrained',
    ...(session ? { session } : {}),
  });
  try {
    let phases = recipePhases({ ...o, freezeEpochs: o.freezeEpochs });
    const headWeight = model.params.get('head/dense0/weight');
    const heldName = counts.test > 0 ? 'test' : 'validation';
    const held = counts.test > 0 ? split.test.examples : split.validation.examples;
    let probe: LinearProbe | undefined;
    if (o.strategy === 'lp-ft' && o.head !== 'mlp' && headWeight) {
      // The probe phase becomes a converged L-BFGS linear probe on cached features; fine-tuning starts from it.
      emit({
        type: 'stage',
        stage: 'train',
        message: 'linear probe (L-BFGS on cached features) as the starting head',
      });
      probe = await linearProbe(
        backbone,
        train.examples,
        {
          featureTensor,
          numClasses,
          seed: o.seed,
          cacheDir: o.cacheDir,
          onBadInput: o.onBadInput,
          session,
        },
        { validation: split.validation.examples, held },
      );
      headWeight.set(probe.weight);
      model.params.get('head/dense0/bias')!.set(probe.bias);
      phases = phases.filter((p) => p.unfreeze !== 'none');
    }
    const augment = o.augment === true ? {} : o.augment === false ? undefined : o.augment;
    const cache = new ActivationCache();
    let cached = true;

    emit({
      type: 'stage',
      stage: 'train',
      message: `${o.strategy}: ${phases.map((p) => `${p.name} (${p.unfreeze})`).join(' → ')}`,
    });
    const tt = performance.now();
    const results: PhaseResult[] = await runPhases(
      model,
      phases,
      {
        train: train.examples,
        validation: split.validation.examples,
        preprocess: pre,
        batchSize: o.batchSize,
        optimizer: optimizerOf(o),
        weightDecay: o.weightDecay,
        layerwiseLrDecay: o.layerwiseLrDecay,
        clipGradNorm: o.clipGradNorm,
        accumulateSteps: o.accumulateSteps,
        augment,
        seed: o.seed,
        checkpointDir,
        saveSteps: o.saveSteps,
        saveTotalLimit: o.saveTotalLimit,
        resume: o.resume ?? false,
        run: {
          modality: 'image',
          model: o.model,
          labels: dataset.labels,
          featureTensor,
          strategy: o.strategy,
          head: headKind(o),
          bnMode: o.bnMode,
          labelSmoothing: o.labelSmoothing,
        },
        signal: o.signal,
        session,
        onPhase: (info) => {
          cached &&= info.cached;
          const note = info.cached
            ? ''
            : ' (augmentation: the activation cache is bypassed for training items)';
          emit({
            type: 'stage',
            stage: 'train',
            message: `phase ${info.index + 1}/${phases.length} ${info.phase.name}: ${model.cut.description}${note}${info.resumed ? ', resumed' : ''}`,
          });
        },
      },
      cache,
    );
    if (o.bnMode === 'train') {
      // Momentum-averaged BN statistics lag the weights (badly so from scratch): reset them to the training split's
      // batch statistics under the final weights before evaluating and exporting.
      emit({
        type: 'stage',
        stage: 'train',
        message: 'recalibrating BatchNormalization statistics (precise BN)',
      });
      const acts = await activationsFor(model, cache, train.examples, pre, session);
      const labels = Int32Array.from(train.examples, (e) => e.label);
      const source = arrayDataSource({ [model.inputName]: acts }, labels);
      await model.recalibrateBatchNorm(source.batches(o.batchSize, 0, false));
    }
    const trainSeconds = (performance.now() - tt) / 1000;
    const history = results[results.length - 1]?.history;
    for (const e of history?.epochs ?? []) emit(epochEvent(e));

    // LP-FT never ships below the probe it started from: both are compared on the validation split (never on
    // the held-out one), and the probe is kept when fine-tuning did not beat it there.
    const kept =
      probe && phases.length > 0 ? await keepProbe(model, probe, cache, split, pre, session) : undefined;
    if (kept) emit({ type: 'stage', stage: 'evaluate', message: kept.message });
    emit({ type: 'stage', stage: 'evaluate', message: `evaluating on the ${heldName} split` });
    let report: EvaluationReport;
    if (kept?.probe && probe?.probs['held']) {
      report = evaluateHeldOut(probe.probs['held'].probs, probe.probs['held'].labels);
    } else {
      const acts = await activationsFor(model, cache, held, pre, session);
      const heldLabels = Int32Array.from(held, (e) => e.label);
      const probs = await predictAll(model, arrayDataSource({ [model.inputName]: acts }, heldLabels), 64);
      report = evaluateHeldOut(probs.probs, heldLabels);
    }
    const result: FineTuneResult = {
      labels: [...dataset.labels],
      featureTensor,
      evaluation: report,
      evaluatedOn: heldName,
      history,
      counts,
      seconds: { train: trainSeconds, total: (performance.now() - t0) / 1000 },
      strategy: o.strategy,
      phases: results.map((r) => ({ ...r.phase, skipped: r.skipped })),
      trainableTensors: model.trainableNames.length,
      activationsCached: cached,
      ...(kept ? { kept: kept.probe ? 'probe' : 'fine-tuned', validation: kept.validation } : {}),
    };
    if (o.out) {
      emit({ type: 'stage', stage: 'export', message: `writing ${o.out}` });
      const training = {
        data: typeof o.data === 'string' ? o.data : o.data.name,
        model: o.model,
        strategy: o.strategy,
        unfreeze: o.unfreeze,
        bnMode: o.bnMode,
        epochs: o.epochs,
        lr: o.lr,
        optimizer: optimizerOf(o),
        weightDecay: o.weightDecay,
        layerwiseLrDecay: o.layerwiseLrDecay ?? null,
        augment: augment ?? false,
        shots: o.shots ?? null,
        seed: o.seed,
        phases: result.phases,
      };
      result.manifest = await exportFineTuned({
        backbone,
        tuned: kept?.probe ? backbone.model : model.currentBackbone(),
        featureTensor,
        head: kept?.probe && probe ? probe.head : model.exportHead(),
        headInfo: { ...denseSpec(headKind(o)), standardized: false },
        labels: result.labels,
        out: o.out,
        training,
        metrics: headlineMetrics(result),
        report: reportData({
          datasetName: dataset.name,
          modelId: o.model,
          labels: result.labels,
          evaluation: report,
          evaluatedOn: heldName,
          counts: { ...counts },
          settings: { ...training, featureTensor, kept: result.kept ?? null },
          seconds: result.seconds,
          history,
        }),
      });
      result.dir = o.out;
      if (o.int8) {
        emit({ type: 'stage', stage: 'quantize', message: `quantizing ${o.out} to int8` });
        result.int8 = await quantizeTrained(
          o.out,
          o.int8,
          { dataset, train: train.examples, heldOut: held },
          {
            threads: o.threads,
            onProgress: (message) => emit({ type: 'stage', stage: 'quantize', message }),
          },
        );
      }
    }
    return result;
  } finally {
    await model.release();
  }
}
