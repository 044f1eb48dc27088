/**
 * Text distillation on the tiny BERT: a fine-tuned 2-layer teacher teaches shallower copies of its encoder
 * (`--student layers:…`). Checked: a student keeping every layer starts as the teacher (same probabilities), a
 * 1-layer student is written as a model directory that predicts as it was evaluated, and options a text teacher
 * cannot honour are refused.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { mulberry32 } from '../../src/data/random.js';
import { distill } from '../../src/distill/distill.js';
import { encoderLayers } from '../../src/distill/drop-layers.js';
import { isGraftError } from '../../src/errors.js';
import { readManifest } from '../../src/export/manifest.js';
import { decodeModel } from '../../src/onnx/io.js';
import { trainTextClassifier } from '../../src/pipeline/train-text.js';
import { Classifier } from '../../src/predict/classifier.js';
import '../../src/text/index.js';
import { BERT_SOURCE } from '../text/helpers.js';

const KEYWORDS: Record<string, string[]> = {
  animal: ['cat', 'dog', 'bird', 'fish', 'fox'],
  color: ['red', 'blue', 'green', 'black', 'white'],
};
const FILLER = 'the a of to in and is was it this that they we you have time day people way work'.split(' ');

async function csv(path: string, perClass: number, seed: number): Promise<string> {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const lines = ['text,label'];
  for (let i = 0; i < perClass; i++)
    for (const [label, words] of Object.entries(KEYWORDS)) {
      const parts = Array.from({ length: 3 + Math.floor(rnd() * 6) }, () => pick(FILLER));
      parts.splice(Math.floor(rnd() * parts.length), 0, pick(words));
      lines.push(`"${parts.join(' ')}",${label}`);
    }
  await writeFile(path, lines.join('\n') + '\n');
  return path;
}

describe('text distillation (tiny BERT teacher)', () => {
  const tmp = join(tmpdir(), `graft-distill-text-${process.pid}`);
  const data = join(tmp, 'data.csv');
  const teacher = join(tmp, 'teacher');
  const common = { data, teacher, threads: 2, speedRounds: 0, seed: 3 } as const;
  after(() => rm(tmp, { recursive: true, force: true }));

  before(async () => {
    await mkdir(tmp, { recursive: true });
    await csv(data, 40, 1);
    await trainTextClassifier({
      data,
      model: BERT_SOURCE,
      threads: 2,
      args: {
        outputDir: teacher,
        numTrainEpochs: 3,
        perDeviceTrainBatchSize: 16,
        learningRate: 1e-2,
        seed: 3,
        maxSeqLength: 16,
      },
    });
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

  it('refuses image students and image-only options with a text teacher', async () => {
    await assert.rejects(
      distill({ ...common, student: 'cnn' }),
      (e) => isGraftError(e, 'BAD_OPTION') && /layers:<N>/.test(e.message),
    );
    await assert.rejects(
      distill({ ...common, student: 'layers:1', unlabeled: 'mnist' }),
      (e) => isGraftError(e, 'BAD_OPTION') && /--unlabeled/.test(e.message),
    );
    await assert.rejects(distill({ ...common, student: 'layers:0,0,5' }), (e) =>
      isGraftError(e, 'BAD_OPTION'),
    );
  });
});
