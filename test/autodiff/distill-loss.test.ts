/**
 * The distillation objective (src/autodiff/distill-loss.ts): gradients against finite differences, and loss,
 * its two terms and the student-logit gradient against PyTorch autograd (fixture written by
 * test/fixtures/torch/make_distill_loss.py: F.kl_div batchmean · T² · α + (1 − α) · cross_entropy with
 * ignore_index=-1), in float64 and float32.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { addDistillationObjective, buildTrainingGraph } from '../../src/autodiff/index.js';
import { isGraftError } from '../../src/errors.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';
import { Session } from '../../src/runtime/session.js';
import { checkGradients, makeTensor, type FloatDType } from './fd.js';

interface Case {
  n: number;
  c: number;
  temperature: number;
  alpha: number;
  student: number[];
  teacher: number[];
  labels: number[];
  loss: number;
  soft: number;
  hard: number;
  grad: number[];
}
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/torch/distill_loss.json', import.meta.url), 'utf8'),
) as { cases: Case[] };

test('distillation objective: gradients match finite differences (mixed, unlabelled-only and labelled batches)', async () => {
  for (const labels of [
    [2, -1, 0, -1],
    [-1, -1, -1, -1],
    [1, 0, 2, 2],
  ]) {
    for (const [temperature, alpha] of [
      [4, 0.9],
      [1.5, 0.3],
    ] as const) {
      await checkGradients({
        inputs: {
          teacher: { shape: [4, 3] },
          y: { shape: [4], dtype: 'int64', values: labels },
        },
        params: { s: { shape: [4, 3] } },
        build: (b) =>
          addDistillationObjective(b, 's', 'teacher', 'y', { temperature, alpha, numClasses: 3 }).loss,
      });
    }
  }
});

async function runCase(c: Case, dtype: FloatDType) {
  const b = new GraphBuilder('kd');
  b.initializer('s', makeTensor(dtype, [c.n, c.c], c.student));
  b.input('t', dtype, ['N', c.c]);
  b.input('y', 'int64', ['N']);
  const o = addDistillationObjective(b, 's', 't', 'y', {
    temperature: c.temperature,
    alpha: c.alpha,
    numClasses: c.c,
  });
  b.output(o.loss, dtype, []);
  const tg = buildTrainingGraph(createModel(b.graph, 17), {
    params: ['s'],
    loss: o.loss,
    extraOutputs: [o.soft, o.hard],
  });
  const session = await Session.create(tg.model, { threads: 1 });
  const out = await session.run({
    s: makeTensor(dtype, [c.n, c.c], c.student),
    t: makeTensor(dtype, [c.n, c.c], c.teacher),
    y: makeTensor('int64', [c.n], c.labels),
  });
  await session.release();
  const num = (name: string) => Number(out[name]!.data[0]);
  return {
    loss: num(o.loss),
    soft: num(o.soft),
    hard: num(o.hard),
    grad: Array.from(out[tg.gradients['s']!]!.data as Float64Array, Number),
  };
}

test('distillation objective matches PyTorch (loss, soft and hard terms, gradient)', async () => {
  assert.equal(fixture.cases.length, 3);
  for (const dtype of ['float64', 'float32'] as const) {
    const tol = dtype === 'float64' ? 1e-9 : 2e-5;
    for (const c of fixture.cases) {
      const got = await runCase(c, dtype);
      const close = (a: number, e: number, what: string) =>
        assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${dtype} ${what}: ${a} vs ${e}`);
      close(got.loss, c.loss, 'loss');
      close(got.soft, c.soft, 'soft term');
      close(got.hard, c.hard, 'hard term');
      assert.equal(got.grad.length, c.grad.length);
      const scale = Math.max(...c.grad.map(Math.abs));
      got.grad.forEach((g, i) => close(g / scale, c.grad[i]! / scale, `grad[${i}]`));
    }
  }
  // the all-unlabelled case has no CE term: its gradient is the KL term's alone
  assert.equal(fixture.cases[1]!.hard, 0);
});

test('distillation objective refuses a temperature ≤ 0 and an alpha outside [0, 1]', () => {
  const b = new GraphBuilder('kd');
  b.input('s', 'float32', ['N', 3]);
  b.input('t', 'float32', ['N', 3]);
  b.input('y', 'int64', ['N']);
  for (const [temperature, alpha] of [
    [0, 0.5],
    [2, 1.5],
    [2, -0.1],
  ] as const) {
    assert.throws(
      () => addDistillationObjective(b, 's', 't', 'y', { temperature, alpha, numClasses: 3 }),
      (e: unknown) => isGraftError(e) && e.code === 'BAD_OPTION',
    );
  }
});
