/**
 * Hidden-state matching in text distillation (`hiddenLoss`): a student that keeps every teacher layer has the
 * teacher's hidden states, so the added term is zero and its training loss is the plain distillation loss; a
 * 1-layer student's states differ from its teacher layer's, so the term adds to the loss and changes the
 * student. Image teachers refuse the option, and a negative weight is BAD_OPTION.
 */
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { distill } from '../../src/distill/distill.js';
import { isGraftError } from '../../src/errors.js';
import { csv, tinyTextTeacher } from './text-fixtures.js';

describe('text distillation with hidden-state matching', () => {
  const tmp = join(tmpdir(), `graft-distill-hidden-${process.pid}`);
  const data = join(tmp, 'data.csv');
  const teacher = join(tmp, 'teacher');
  const common = { data, teacher, threads: 2, speedRounds: 0, seed: 3, epochs: 1 } as const;
  const trainLoss = (r: Awaited<ReturnType<typeof distill>>) => r.history!.epochs.at(-1)!.trainLoss;
  after(() => rm(tmp, { recursive: true, force: true }));

  before(async () => {
    await mkdir(tmp, { recursive: true });
    await csv(data, 40, 1);
    await tinyTextTeacher(data, teacher);
  });

  it('adds nothing for a student with every teacher layer', async () => {
    // A learning rate too small to move any weight: every step sees the starting student.
    const still = { ...common, student: 'layers:0,1', lr: 1e-12 };
    const plain = await distill(still);
    const matched = await distill({ ...still, hiddenLoss: 10 });
    assert.ok(
      Math.abs(trainLoss(matched) - trainLoss(plain)) < 1e-5,
      `${trainLoss(matched)} vs ${trainLoss(plain)}`,
    );
  });

  it("adds the MSE to a shallower student's loss and changes what it learns", async () => {
    const plain = await distill({ ...common, student: 'layers:1', lr: 1e-12 });
    const matched = await distill({ ...common, student: 'layers:1', lr: 1e-12, hiddenLoss: 10 });
    assert.ok(trainLoss(matched) > trainLoss(plain) + 1e-3, `${trainLoss(matched)} vs ${trainLoss(plain)}`);
    const a = await distill({ ...common, student: 'layers:1', lr: 1e-3 });
    const b = await distill({ ...common, student: 'layers:1', lr: 1e-3, hiddenLoss: 10 });
    assert.notEqual(a.evaluation.logLoss, b.evaluation.logLoss);
  });

  it('is refused for image teachers and for negative weights', async () => {
    await assert.rejects(
      distill({ ...common, student: 'layers:1', hiddenLoss: -1 }),
      (e) => isGraftError(e, 'BAD_OPTION') && /--hidden-loss/.test(e.message),
    );
    await assert.rejects(
      distill({
        data: 'mnist',
        teacher: 'file:none.onnx',
        teacherLabels: ['a', 'b'],
        student: 'cnn',
        hiddenLoss: 1,
      }),
      (e) =>
        isGraftError(e, 'BAD_OPTION') &&
        /--hidden-loss: hidden-state matching is built for text/.test(e.message),
    );
  });
});
