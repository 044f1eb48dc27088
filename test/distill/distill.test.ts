/**
 * distill() end to end on real MNIST digits: a cheap teacher (a linear head on raw pixels, trained here) taught
 * to an MLP student through soft targets alone (α = 1: the labels carry no weight, so whatever the student
 * agrees on came from the teacher's logits, fed in step with the images), written as a model directory that
 * loads and predicts; and a killed run that resumes from its checkpoint to the same model as an unbroken one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMnist } from '../../src/data/builtin-mnist.js';
import { sampleShots, stratifiedSplit } from '../../src/data/split.js';
import { distill, type DistillResult } from '../../src/distill/distill.js';
import type { DistillOptions } from '../../src/distill/options.js';
import { isGraftError } from '../../src/errors.js';
import { trainClassifier } from '../../src/pipeline/train.js';
import type { TrainEvent } from '../../src/pipeline/events.js';
import { Classifier } from '../../src/predict/classifier.js';

const mnist = loadMnist();
const data = sampleShots(mnist, 40, 0);
const inData = new Set(data.examples.map((e) => e.id));
const unlabeled = mnist.examples
  .filter((e) => !inData.has(e.id))
  .slice(0, 600)
  .map((e) => e.source);
const splits = { valSplit: 0.1, testSplit: 0.2, seed: 0 };

async function withTeacher(body: (dir: string, teacher: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'graft-distill-'));
  try {
    const teacher = join(dir, 'teacher');
    await trainClassifier({
      data,
      model: 'pixels',
      head: 'linear',
      features: 'final',
      baseline: false,
      out: teacher,
      cacheDir: false,
      ...splits,
    });
    await body(dir, teacher);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const base = (
  teacher: string,
): Partial<DistillOptions> & Pick<DistillOptions, 'data' | 'teacher' | 'student'> => ({
  data,
  teacher,
  student: 'mlp',
  unlabeled,
  cacheDir: false,
  lr: 3e-3,
  speedRounds: 1,
  threads: 2,
  ...splits,
});

test('a student taught by soft targets alone agrees with its teacher; its model directory loads and predicts', async () => {
  await withTeacher(async (dir, teacher) => {
    const events: TrainEvent[] = [];
    const out = join(dir, 'student');
    const r = await distill({ ...base(teacher), alpha: 1, epochs: 15, out, onEvent: (e) => events.push(e) });
    assert.equal(r.counts.unlabeled, 600);
    assert.equal(r.evaluatedOn, 'test');
    // Chance agreement on ten classes is about 0.1; a student fed misaligned logits stays near it.
    assert.ok(r.comparison.student.agreement >= 0.75, `agreement ${r.comparison.student.agreement}`);
    assert.ok(r.evaluation.accuracy >= 0.7, `student accuracy ${r.evaluation.accuracy}`);
    assert.ok(r.teacherEvaluation.accuracy >= 0.7, `teacher accuracy ${r.teacherEvaluation.accuracy}`);
    // An MLP on raw pixels has far more weights than a linear head on them: allowed, with a warning.
    assert.ok(r.comparison.student.parameters > r.comparison.teacher.parameters);
    assert.ok(events.some((e) => e.type === 'warning' && e.warning.code === 'STUDENT_LARGER'));

    // The directory predicts the held-out split as distill() evaluated it.
    const held = stratifiedSplit(data, { validation: splits.valSplit, test: splits.testSplit, seed: 0 }).test;
    const model = await Classifier.load(out);
    try {
      const preds = await model.predict(held.examples.map((e) => e.source));
      const right = preds.filter((p, i) => p.label === data.labels[held.examples[i]!.label]).length;
      assert.equal(right / held.examples.length, r.evaluation.accuracy);
    } finally {
      await model.release();
    }
    const manifest = JSON.parse(await readFile(join(out, 'graft.json'), 'utf8')) as {
      metrics: { distillation: DistillResult['comparison'] };
      training: { teacher: string; alpha: number };
    };
    assert.equal(manifest.metrics.distillation.student.agreement, r.comparison.student.agreement);
    assert.equal(manifest.training.teacher, teacher);
    const report = await readFile(join(out, 'report.html'), 'utf8');
    assert.match(report, /Teacher and student/);
  });
});

test('a killed distillation resumes from its checkpoint to the model an unbroken run makes', async () => {
  await withTeacher(async (dir, teacher) => {
    const o = { ...base(teacher), epochs: 4, speedRounds: 0 };
    const whole = await distill({ ...o, out: join(dir, 'whole') });
    const out = join(dir, 'killed');
    const ctl = new AbortController();
    await assert.rejects(
      distill({
        ...o,
        out,
        signal: ctl.signal,
        onEvent: (e) => {
          if (e.type === 'epoch' && e.epoch === 1) ctl.abort();
        },
      }),
      (e: unknown) => isGraftError(e) && e.code === 'CANCELLED',
    );
    const epochs: number[] = [];
    const resumed = await distill({
      ...o,
      out,
      resume: true,
      onEvent: (e) => {
        if (e.type === 'epoch') epochs.push(e.epoch);
      },
    });
    assert.ok(resumed.resumed);
    assert.deepEqual(epochs, [2, 3], 'only the epochs after the checkpoint ran');
    assert.equal(resumed.evaluation.logLoss, whole.evaluation.logLoss);
    assert.equal(resumed.comparison.student.agreement, whole.comparison.student.agreement);
  });
});

test("a cut student (the teacher's own network up to a tensor) starts from a linear probe of the labelled data", async () => {
  await withTeacher(async (_dir, teacher) => {
    // One epoch at a rate too small to move a head far: what the student knows, it knew from its start.
    const o = { ...base(teacher), student: 'cut:pixels_flat', epochs: 1, lr: 1e-5, speedRounds: 0 };
    const warm = await distill(o);
    const cold = await distill({ ...o, warmStart: false });
    // The teacher's standardisation and head lie past the cut: the student is a fresh 784 → 10 linear head.
    assert.equal(warm.comparison.student.parameters, 784 * 10 + 10);
    assert.ok(warm.evaluation.accuracy >= 0.7, `warm-started ${warm.evaluation.accuracy}`);
    assert.ok(cold.evaluation.accuracy < 0.5, `random head ${cold.evaluation.accuracy}`);
  });
});

test('with augmentation the teacher runs on the very batch the student sees', async () => {
  await withTeacher(async (_dir, teacher) => {
    const r = await distill({ ...base(teacher), alpha: 1, epochs: 6, augment: true, speedRounds: 0 });
    assert.equal(r.teacherLogitsCached, false);
    // Soft targets alone again: a teacher answering for other images than the student's would leave it near
    // chance (~0.1); six epochs on augmented digits reach ~0.7.
    assert.ok(r.comparison.student.agreement >= 0.5, `agreement ${r.comparison.student.agreement}`);
  });
});
