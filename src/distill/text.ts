/**
 * distill() for text teachers: a graft text model directory teaches a shallower copy of its own encoder
 * (`--student layers:N`, text-student.ts). The data is split as text training splits it; the transfer set is the
 * training split (or `shots` of it per class) plus any unlabelled texts (label -1: soft targets only, as for images: unlabeled.ts). The
 * teacher's logits for the transfer set are computed once (text is not augmented) and ride along each batch (TEACHER_LOGITS);
 * the student is a SequenceClassifier with the distillation loss, trained by the one recipe runner with text
 * fine-tuning's own optimiser settings (AdamW, linear decay, clipping). Then both are evaluated on the held-out
 * split, timed on one batch of its texts, and the student is written as a normal text model directory.
 */
import { join } from 'node:path';
import { loadDataset } from '../data/load.js';
import { sampleShots, SPLIT_DEFAULTS, stratifiedSplit } from '../data/split.js';
import type { TextDataset } from '../data/types.js';
import { GraftError } from '../errors.js';
import { evaluateHeldOut } from '../eval/report.js';
import { epochEvent } from '../pipeline/events.js';
import { textPhaseFit } from '../pipeline/text-recipes.js';
import { runPhasesOn } from '../learner/run-phases.js';
import { encodeModel } from '../onnx/io.js';
import { copyTokenizerFiles } from '../text/predict.js';
import { resolveTextTrainingArguments } from '../text/finetune/arguments.js';
import { SequenceClassifier } from '../text/finetune/model.js';
import { TEACHER_LOGITS } from '../strategies/finetune/suffix-graph.js';
import { predictAll } from '../train/index.js';
import { agreementOf, countParameters, measureFeedsSpeed, sideBySide, softmaxRows } from './compare.js';
import type { DistillResult } from './distill.js';
import { writeDistilled } from './distill-export.js';
import { alignLabels } from './labels.js';
import { distillRunOptions, type DistillOptions } from './options.js';
import type { StudentSpec } from './student.js';
import { loadTextTeacher, teacherTextSource, textTeacherLogits } from './text-teacher.js';
import { matchedLayers, teacherHidden } from './text-hidden.js';
import { textStudent } from './text-student.js';
import { unlabeledExamples } from './unlabeled.js';

type Resolved = DistillOptions & { alpha: number };

async function textData(o: Resolved): Promise<TextDataset> {
  const ds = typeof o.data === 'string' ? await loadDataset(o.data, { onBadInput: o.onBadInput }) : o.data;
  if (ds.kind !== 'text')
    throw new GraftError('BAD_INPUT', `'${ds.name}' is an image dataset; a text teacher needs text data`);
  return ds;
}

export async function distillText(
  o: Resolved,
  spec: Extract<StudentSpec, { kind: 'layers' }>,
): Promise<DistillResult> {
  const emit = o.onEvent ?? (() => {});
  const t0 = performance.now();
  emit({ type: 'stage', stage: 'backbone', message: `loading the teacher ${o.teacher}` });
  const teacher = await loadTextTeacher(o.teacher);
  const data = await textData(o);
  for (const w of data.warnings) emit({ type: 'warning', warning: w });
  const labels = [...data.labels];
  const { columns, unused } = alignLabels(labels, teacher.labels, o.labelMap);
  const split = stratifiedSplit(data, {
    validation: o.valSplit ?? SPLIT_DEFAULTS.validation,
    test: o.testSplit ?? SPLIT_DEFAULTS.test,
    seed: o.seed,
  });
  const heldName = split.test.examples.length > 0 ? 'test' : 'validation';
  const held = heldName === 'test' ? split.test : split.validation;
  const train = o.shots ? sampleShots(split.train, o.shots, o.seed) : split.train;
  const unlabeled = await unlabeledExamples('text', o, data.name, [
    ...train.examples,
    ...split.validation.examples,
    ...split.test.examples,
  ]);
  const transfer: TextDataset = { ...train, examples: [...train.examples, ...unlabeled] };
  const session = o.threads ? { threads: o.threads } : undefined;

  const student = textStudent(teacher, spec);
  emit({ type: 'stage', stage: 'backbone', message: `student: ${student.description}` });
  const tTeacher = performance.now();
  emit({ type: 'stage', stage: 'extract', message: 'teacher logits for the training texts' });
  const logits = await textTeacherLogits(teacher, transfer, columns, { session, batchSize: o.batchSize });
  const teacherSeconds = (performance.now() - tTeacher) / 1000;

  const matching = o.hiddenLoss ? matchedLayers(teacher, student) : undefined;
  const model = await SequenceClassifier.create(student.encoder, {
    numClasses: labels.length,
    pooler: teacher.manifest.head['pooler'] === 'tanh' ? 'tanh' : 'auto',
    seed: o.seed,
    unfreeze: 'all',
    initialParams: student.initialParams,
    distill: {
      temperature: o.temperature,
      alpha: o.alpha,
      ...(matching ? { hidden: { weight: o.hiddenLoss!, tensors: matching.student } } : {}),
    },
    ...(session ? { session } : {}),
  });
  const hidden = matching ? await teacherHidden(teacher, matching, session) : undefined;
  try {
    const source = (ds: TextDataset, seed: number, withLogits: boolean) =>
      teacherTextSource(teacher, ds, model.inputs, {
        seed,
        ...(withLogits ? { columns: { [TEACHER_LOGITS]: logits } } : {}),
      });
    const args = resolveTextTrainingArguments({
      // Only the optimiser and schedule settings are read here; the student is written below.
      outputDir: o.out ?? 'unused',
      learningRate: o.lr,
      numTrainEpochs: o.epochs,
      perDeviceTrainBatchSize: o.batchSize,
      weightDecay: o.weightDecay,
      seed: o.seed,
    });
    const runner = {
      trainSize: transfer.examples.length,
      batchSize: o.batchSize,
      accumulateSteps: 1,
      seed: o.seed,
    };
    const perEpoch = Math.ceil(runner.trainSize / o.batchSize);
    const validation = split.validation.examples.length ? source(split.validation, 0, false) : undefined;
    const phases = [{ name: 'distill', unfreeze: 'all', epochs: o.epochs, lr: o.lr }];
    let resumed = false;
    emit({
      type: 'stage',
      stage: 'train',
      message: `distilling into ${o.student} (T=${o.temperature}, α=${o.alpha}; ${train.examples.length} labelled + ${unlabeled.length} unlabelled texts)`,
    });
    const tt = performance.now();
    const { results } = await runPhasesOn(model, phases, {
      ...runner,
      data: (_i, seed) =>
        Promise.resolve({
          train: hidden ? hidden.wrap(source(transfer, seed, true)) : source(transfer, seed, true),
          ...(validation ? { validation } : {}),
          cached: true,
        }),
      fit: textPhaseFit(model, args, perEpoch),
      ...(o.out ? { checkpointDir: join(o.out, 'checkpoints') } : {}),
      ...(o.saveSteps !== undefined ? { saveSteps: o.saveSteps } : {}),
      saveTotalLimit: o.saveTotalLimit,
      resume: o.resume ?? false,
      run: {
        ...distillRunOptions(o, 'text', labels),
        keep: student.keep,
      },
      callbacks: [{ epochEnd: (e) => emit(epochEvent(e)) }],
      ...(o.signal ? { signal: o.signal } : {}),
      onPhase: (info) => (resumed ||= info.resumed),
    });
    const trainSeconds = (performance.now() - tt) / 1000;

    emit({ type: 'stage', stage: 'evaluate', message: `teacher and student on the ${heldName} split` });
    const heldSource = source(held, 0, false);
    const { probs, labels: y } = await predictAll(model, heldSource, o.batchSize);
    const heldLogits = await textTeacherLogits(teacher, held, columns, { session, batchSize: o.batchSize });
    const n = held.examples.length;
    const teacherProbs = softmaxRows(heldLogits.data as Float32Array, n);
    const pair = {
      teacher: evaluateHeldOut(teacherProbs, y),
      student: evaluateHeldOut(probs, y),
      agreement: agreementOf(probs, teacherProbs, n),
    };
    const deployable = model.exportModel();
    const rows = Math.min(o.batchSize, n);
    const batch = teacherTextSource(teacher, held, teacher.inputs).batchOf(
      Array.from({ length: rows }, (_, i) => i),
    );
    const studentFeeds = Object.fromEntries(model.inputs.map((k) => [k, batch.inputs[k]!]));
    if (o.speedRounds > 0 && rows > 0)
      emit({ type: 'stage', stage: 'evaluate', message: 'timing teacher and student' });
    const speed =
      o.speedRounds > 0 && rows > 0
        ? await measureFeedsSpeed(
            { model: teacher.encoder.model, feeds: batch.inputs, output: teacher.manifest.output },
            { model: deployable, feeds: studentFeeds, output: teacher.manifest.output },
            rows,
            o.speedRounds,
            session,
          )
        : undefined;
    const comparison = sideBySide(
      {
        accuracy: pair.teacher.accuracy,
        parameters: countParameters(teacher.encoder.model),
        bytes: teacher.bytes,
      },
      {
        accuracy: pair.student.accuracy,
        agreement: pair.agreement,
        parameters: countParameters(deployable),
        bytes: encodeModel(deployable).length,
      },
      speed,
      n,
    );
    const history = results.at(-1)?.history;
    const seconds = { teacher: teacherSeconds, train: trainSeconds, total: (performance.now() - t0) / 1000 };
    const counts = {
      train: train.examples.length,
      unlabeled: unlabeled.length,
      validation: split.validation.examples.length,
      test: split.test.examples.length,
    };
    const result: DistillResult = {
      labels,
      teacher: { source: o.teacher, labels: [...teacher.labels], unusedLabels: unused },
      student: {
        spec: o.student,
        description: student.description,
        featureTensor: teacher.manifest.featureTensor,
      },
      temperature: o.temperature,
      alpha: o.alpha,
      evaluation: pair.student,
      teacherEvaluation: pair.teacher,
      evaluatedOn: heldName,
      comparison,
      counts,
      teacherLogitsCached: true,
      ...(history ? { history } : {}),
      resumed,
      seconds,
    };
    if (o.out) {
      emit({ type: 'stage', stage: 'export', message: `writing ${o.out}` });
      const m = teacher.manifest;
      const training = {
        data: typeof o.data === 'string' ? o.data : o.data.name,
        teacher: o.teacher,
        student: o.student,
        studentDescription: student.description,
        keptLayers: student.keep,
        temperature: o.temperature,
        alpha: o.alpha,
        hiddenLoss: o.hiddenLoss ?? 0,
        unlabeled: unlabeled.length,
        shots: o.shots ?? null,
        epochs: o.epochs,
        batchSize: o.batchSize,
        lr: o.lr,
        optimizer: 'adamw',
        weightDecay: o.weightDecay,
        seed: o.seed,
      };
      result.manifest = await writeDistilled({
        out: o.out,
        model: deployable,
        fields: {
          task: 'text-classification',
          labels,
          inputs: [...model.inputs],
          output: m.output,
          preprocess: teacher.preprocess,
          base: { id: o.teacher, sha256: teacher.encoder.modelHash },
          featureTensor: m.featureTensor,
        },
        studentSpec: o.student,
        teacherSource: o.teacher,
        labels,
        pair,
        comparison,
        evaluatedOn: heldName,
        datasetName: data.name,
        counts,
        training,
        headInfo: { ...m.head },
        seconds,
        ...(history ? { history } : {}),
        also: (dir) => copyTokenizerFiles(teacher.encoder.dir, dir),
      });
      result.dir = o.out;
    }
    return result;
  } finally {
    await hidden?.release();
    await model.release();
  }
}
