/**
 * `distill()`: teacher–student training on the shared training core. The data is split as every image pipeline
 * splits it; the transfer set is the labelled training split plus any unlabelled images (label -1: soft targets
 * only). The student is a BackboneTrainable whose training graph carries the distillation loss
 * (autodiff/distill-loss.ts), trained by the recipe runner (runPhases: Trainer, checkpoints, resume) with a
 * training source that adds the teacher's logits to every batch — computed once and cached without
 * augmentation, or on the very batch the student sees with it. Then both networks are evaluated on the held-out
 * split and the student is written as a normal model directory comparing the two.
 */
import { GraftError } from '../errors.js';
import type { EvaluationReport } from '../eval/report.js';
import type { ModelManifest } from '../export/manifest.js';
import { parseFeatureId } from '../features/feature-id.js';
import type { Model } from '../onnx/ir.js';
import type { Tensor } from '../tensor.js';
import { epochEvent } from '../pipeline/events.js';
import { imageManifestFields } from '../pipeline/export.js';
import { checkpointRoot } from '../pipeline/finetune.js';
import { linearProbe } from '../pipeline/probe-warm-start.js';
import { prepareImageData } from '../pipeline/image-data.js';
import { preflight } from '../pipeline/preflight.js';
import { batchShape } from '../preprocess/image.js';
import { ActivationCache, PrefixRunner } from '../strategies/finetune/activations.js';
import { BackboneTrainable } from '../strategies/finetune/backbone-trainable.js';
import { runPhases } from '../strategies/finetune/run-phases.js';
import { denseSpec } from '../heads/fitted.js';
import { findResumeCheckpoint } from '../train/checkpoints.js';
import type { Callback } from '../train/events.js';
import type { History } from '../train/history.js';
import { countParameters, type DistillComparison } from './compare.js';
import { compareSides, studentClassifier, writeDistilled } from './distill-export.js';
import { heldOutPair } from './held-out.js';
import { alignLabels } from './labels.js';
import { refuseDistillOptions } from './option-rules.js';
import {
  assertTextStudent,
  distillRunOptions,
  resolveDistillOptions,
  type DistillOptions,
} from './options.js';
import { distillSource, teacherLogits } from './source.js';
import { buildStudent, parseStudentSpec, studentParameters } from './student.js';
import { distillText } from './text.js';
import { isTextTeacher } from './text-teacher.js';
import { loadTeacher, teacherLogitsModel, teacherSessionOptions } from './teacher.js';
import { unlabeledExamples } from './unlabeled.js';

export interface DistillResult {
  labels: string[];
  teacher: { source: string; labels: string[]; unusedLabels: string[] };
  student: { spec: string; description: string; featureTensor: string };
  temperature: number;
  alpha: number;
  /** The student on the held-out split. */
  evaluation: EvaluationReport;
  /** The teacher on the same examples. */
  teacherEvaluation: EvaluationReport;
  evaluatedOn: 'test' | 'validation';
  comparison: DistillComparison;
  counts: { train: number; unlabeled: number; validation: number; test: number };
  /** False when augmentation made the teacher run on every batch (no cached logits). */
  teacherLogitsCached: boolean;
  history?: History;
  resumed: boolean;
  seconds: { teacher: number; train: number; total: number };
  dir?: string;
  manifest?: ModelManifest;
}

type DistillInput = Partial<DistillOptions> & Pick<DistillOptions, 'data' | 'teacher' | 'student'>;

/** Live epoch events for the caller's progress display. */
const epochEvents = (emit: NonNullable<DistillOptions['onEvent']>): Callback => ({
  epochEnd: (e) => emit(epochEvent(e)),
});

export async function distill(input: DistillInput): Promise<DistillResult> {
  const spec = parseStudentSpec(input.student);
  if (await isTextTeacher(input.teacher)) {
    assertTextStudent(input, spec);
    refuseDistillOptions(input, 'text', spec);
    const o = resolveDistillOptions(input, 'text');
    await preflight({ out: o.out });
    return distillText(o, spec);
  }
  refuseDistillOptions(input, 'image', spec);
  const o = resolveDistillOptions(input);
  const emit = o.onEvent ?? (() => {});
  await preflight({ out: o.out, cacheDir: o.cacheDir });
  const checkpointDir = checkpointRoot(o);
  if (o.resume) await findResumeCheckpoint(o.resume, checkpointDir!);
  const t0 = performance.now();

  emit({ type: 'stage', stage: 'backbone', message: `loading the teacher ${o.teacher}` });
  const teacher = await loadTeacher(o.teacher, {
    ...(o.teacherLabels ? { labels: o.teacherLabels } : {}),
    ...(o.teacherNormalization ? { normalization: o.teacherNormalization } : {}),
  });
  const { dataset, split, train, counts } = await prepareImageData(o, emit);
  const labels = [...dataset.labels];
  const { columns, unused } = alignLabels(labels, teacher.labels, o.labelMap);
  if (unused.length)
    emit({
      type: 'stage',
      stage: 'load',
      message: `teacher classes the data lacks, left out of the soft targets: ${unused.join(', ')}`,
    });
  const heldName = counts.test > 0 ? 'test' : 'validation';
  const held = counts.test > 0 ? split.test.examples : split.validation.examples;
  const unlabeled = await unlabeledExamples('image', o, dataset.name, [
    ...train.examples,
    ...split.validation.examples,
    ...split.test.examples,
  ]);
  const transfer = [...train.examples, ...unlabeled];

  const session = o.threads ? { threads: o.threads } : undefined;
  const student = await buildStudent(
    spec,
    teacher,
    train.examples,
    // The mlp student's hidden layer is its head's.
    denseSpec({ kind: spec.kind === 'mlp' ? 'mlp' : o.head, hidden: o.hidden, dropout: 0 }),
  );
  const pre = student.backbone.spec.preprocess;
  if (pre.kind !== 'image')
    throw new GraftError('BAD_OPTION', `--student ${o.student} is not an image model`);
  emit({ type: 'stage', stage: 'backbone', message: `student: ${student.description}` });
  const feature = parseFeatureId(student.feature);
  const model = await BackboneTrainable.create({
    backbone: student.backbone.model,
    inputName: student.backbone.spec.inputName,
    inputShape: batchShape(1, pre).slice(1),
    featureTensor: feature.tensor,
    featureGrid: feature.grid,
    numClasses: labels.length,
    head: student.head,
    unfreeze: 'none',
    distill: { temperature: o.temperature, alpha: o.alpha },
    seed: o.seed,
    init: student.init,
    ...(session ? { session } : {}),
  });
  let teacherRunner: PrefixRunner | undefined;
  try {
    // A resumed run restores its head from the checkpoint.
    const warm = o.warmStart && student.init === 'pretrained' && student.head.kind === 'linear';
    if (warm && !o.resume) {
      emit({
        type: 'stage',
        stage: 'train',
        message: 'linear probe on the labelled examples (L-BFGS) as the starting head',
      });
      const probe = await linearProbe(student.backbone, train.examples, {
        featureTensor: student.feature,
        numClasses: labels.length,
        seed: o.seed,
        cacheDir: o.cacheDir,
        onBadInput: o.onBadInput,
        session,
      });
      model.params.get('head/dense0/weight')!.set(probe.weight);
      model.params.get('head/dense0/bias')!.set(probe.bias);
    }
    const studentParams = studentParameters(student, model);
    const teacherParams = countParameters(teacher.model);
    if (studentParams > teacherParams)
      emit({
        type: 'warning',
        warning: {
          code: 'STUDENT_LARGER',
          message: `the student has more parameters than its teacher (${studentParams.toLocaleString('en-US')} vs ${teacherParams.toLocaleString('en-US')}): it is trained as asked, but will not be smaller`,
          count: 1,
          items: [o.student],
        },
      });
    const augment = o.augment === true ? {} : o.augment === false ? undefined : o.augment;
    const tTeacher = performance.now();
    let logits: Tensor | undefined;
    if (augment) {
      teacherRunner = await PrefixRunner.create(
        teacherLogitsModel(teacher),
        teacher.inputName,
        teacher.logits,
        teacher.preprocess,
        teacherSessionOptions(session),
      );
    } else {
      emit({ type: 'stage', stage: 'extract', message: 'teacher logits for the transfer set (cached)' });
      logits = await teacherLogits(teacher, transfer, columns, {
        cacheDir: o.cacheDir,
        session,
        onProgress: (p) => emit({ type: 'extract', progress: p }),
        ...(o.signal ? { signal: o.signal } : {}),
      });
    }
    const teacherSeconds = (performance.now() - tTeacher) / 1000;

    const unfreeze = o.unfreeze ?? student.unfreeze;
    const phases = [{ name: 'distill', unfreeze, epochs: o.epochs, lr: o.lr }];
    const cache = new ActivationCache();
    let resumed = false;
    emit({
      type: 'stage',
      stage: 'train',
      message: `distilling into ${o.student} (T=${o.temperature}, α=${o.alpha}; ${train.examples.length} labelled + ${unlabeled.length} unlabelled)`,
    });
    const tt = performance.now();
    const results = await runPhases(
      model,
      phases,
      {
        train: transfer,
        validation: split.validation.examples,
        preprocess: pre,
        batchSize: o.batchSize,
        optimizer: o.optimizer,
        weightDecay: o.weightDecay,
        accumulateSteps: 1,
        augment,
        seed: o.seed,
        checkpointDir,
        saveSteps: o.saveSteps,
        saveTotalLimit: o.saveTotalLimit,
        resume: o.resume ?? false,
        run: {
          ...distillRunOptions(o, 'image', labels),
          featureTensor: student.feature,
          head: student.head,
          warmStart: warm,
          unlabeled: unlabeled.length,
        },
        callbacks: [epochEvents(emit)],
        trainSource: (runner, c, seed) =>
          distillSource(runner, c, {
            columns,
            examples: transfer,
            seed,
            ...(augment ? { augment, teacherRunner } : { logits }),
          }),
        signal: o.signal,
        session,
        onPhase: (info) => (resumed ||= info.resumed),
      },
      cache,
    );
    const trainSeconds = (performance.now() - tt) / 1000;

    emit({ type: 'stage', stage: 'evaluate', message: `teacher and student on the ${heldName} split` });
    const pair = await heldOutPair(teacher, columns, model, cache, held, o, student);
    const trained = {
      backbone: student.backbone,
      weights: model.currentBackbone(),
      feature: student.feature,
      head: model.exportHead(),
    };
    const deployable: Model = await studentClassifier(trained);
    if (o.speedRounds > 0) emit({ type: 'stage', stage: 'evaluate', message: 'timing teacher and student' });
    const comparison = await compareSides(
      teacher,
      deployable,
      student.backbone,
      pair,
      held.slice(0, o.batchSize).map((e) => e.source),
      o.speedRounds,
      session,
    );
    const history = results[results.length - 1]?.history;
    const seconds = { teacher: teacherSeconds, train: trainSeconds, total: (performance.now() - t0) / 1000 };
    const allCounts = { ...counts, unlabeled: unlabeled.length };
    const result: DistillResult = {
      labels,
      teacher: { source: o.teacher, labels: [...teacher.labels], unusedLabels: unused },
      student: { spec: o.student, description: student.description, featureTensor: student.feature },
      temperature: o.temperature,
      alpha: o.alpha,
      evaluation: pair.student,
      teacherEvaluation: pair.teacher,
      evaluatedOn: heldName,
      comparison,
      counts: allCounts,
      teacherLogitsCached: !augment,
      history,
      resumed,
      seconds,
    };
    if (o.out) {
      emit({ type: 'stage', stage: 'export', message: `writing ${o.out}` });
      result.manifest = await writeDistilled({
        out: o.out,
        model: deployable,
        fields: imageManifestFields(trained.backbone, trained.feature, labels),
        studentSpec: o.student,
        teacherSource: teacher.source,
        labels,
        pair,
        comparison,
        evaluatedOn: heldName,
        datasetName: dataset.name,
        counts: allCounts,
        training: {
          data: typeof o.data === 'string' ? o.data : o.data.name,
          teacher: o.teacher,
          student: o.student,
          studentDescription: student.description,
          warmStart: warm,
          temperature: o.temperature,
          alpha: o.alpha,
          unlabeled: unlabeled.length,
          unfreeze,
          epochs: o.epochs,
          batchSize: o.batchSize,
          lr: o.lr,
          optimizer: o.optimizer,
          weightDecay: o.weightDecay,
          augment: augment ?? false,
          shots: o.shots ?? null,
          seed: o.seed,
          featureTensor: student.feature,
        },
        headInfo: { ...student.head, standardized: false },
        seconds,
        history,
      });
      result.dir = o.out;
    }
    return result;
  } finally {
    await teacherRunner?.release();
    await model.release();
  }
}
