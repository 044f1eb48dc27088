/**
 * Hidden-state matching (src/text/finetune/hidden-loss.ts): the masked mean squared error between student and
 * teacher hidden states, its value against a hand computation and its gradients against finite differences
 * (float64), padding tokens contributing nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';
import { Session } from '../../src/runtime/session.js';
import { addHiddenStateLoss } from '../../src/text/finetune/hidden-loss.js';
import { checkGradients, makeTensor, rng } from '../autodiff/fd.js';

const [B, S, H] = [2, 3, 4];
const MASK = [1, 1, 0, 1, 0, 0];
const pairs = [
  { student: 's0', teacher: 't0' },
  { student: 's1', teacher: 't1' },
];

test('hidden-state loss: gradients match finite differences, padded tokens included in none', async () => {
  const r = await checkGradients({
    inputs: {
      t0: { shape: [B, S, H] },
      t1: { shape: [B, S, H] },
      mask: { shape: [B, S], dtype: 'int64', values: MASK },
    },
    params: { s0: { shape: [B, S, H] }, s1: { shape: [B, S, H] } },
    build: (b) => addHiddenStateLoss(b, pairs, 'mask', H),
  });
  assert.ok(r.maxError < 1e-6, `max error ${r.maxError}`);
});

test('hidden-state loss: its value is the mean over real tokens, layers and width of the squared difference', async () => {
  const rand = rng(3);
  const draw = () => Array.from({ length: B * S * H }, () => rand() * 2 - 1);
  const values = { s0: draw(), s1: draw(), t0: draw(), t1: draw() };
  const b = new GraphBuilder('hs');
  for (const name of Object.keys(values)) b.input(name, 'float32', [B, S, H]);
  b.input('mask', 'int64', [B, S]);
  b.output(addHiddenStateLoss(b, pairs, 'mask', H), 'float32', []);
  const session = await Session.create(createModel(b.graph, 17));
  try {
    const feeds = Object.fromEntries([
      ...Object.entries(values).map(([k, v]) => [k, makeTensor('float32', [B, S, H], v)] as const),
      ['mask', makeTensor('int64', [B, S], MASK)] as const,
    ]);
    const out = await session.run(feeds);
    const got = (Object.values(out)[0]!.data as Float32Array)[0]!;
    let sum = 0;
    for (const [s, t] of [
      [values.s0, values.t0],
      [values.s1, values.t1],
    ] as const)
      for (let i = 0; i < B * S * H; i++) if (MASK[Math.floor(i / H)]) sum += (s[i]! - t[i]!) ** 2;
    const want = sum / (3 * H * 2);
    assert.ok(Math.abs(got - want) < 1e-6 * Math.max(1, want), `${got} vs ${want}`);
  } finally {
    await session.release();
  }
});
