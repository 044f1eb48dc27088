/**
 * Bias correction on a small grouped Conv: the corrected bias equals b − ΔW · E[x] computed independently here
 * (weights rounded per output channel at max|w| / 127, input channel means by hand), and in ONNX Runtime the int8
 * model's mean output per channel moves closer to the float model's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../../src/data/random.js';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel, type Model } from '../../src/onnx/ir.js';
import { Session } from '../../src/runtime/session.js';
import { channelMeans, correctBiases } from '../../src/quantize/bias-correction.js';
import { calibrate, type Feeds } from '../../src/quantize/calibrate.js';
import { insertQdq, tensorsToCalibrate } from '../../src/quantize/qdq.js';
import { quantizeModel } from '../../src/quantize/quantize.js';
import { isGraftError } from '../../src/errors.js';
import { float32 } from '../../src/tensor.js';

const [IN, OUT, GROUPS, K, SIZE] = [4, 6, 2, 3, 5];

/** x [N, 4, 5, 5] → Conv(4 → 6, 3×3, group 2, pads 1) with bias → y. Weights have an awkward spread. */
function convModel(): { model: Model; w: Float32Array; b: Float32Array } {
  const rng = mulberry32(3);
  const w = Float32Array.from({ length: OUT * (IN / GROUPS) * K * K }, (_, i) =>
    // one large weight per output channel sets a coarse step for the others
    i % ((IN / GROUPS) * K * K) === 0 ? 1.3 : (rng() - 0.5) * 0.05,
  );
  const b = Float32Array.from({ length: OUT }, (_, i) => 0.1 * i);
  const g = new GraphBuilder('conv');
  g.input('x', 'float32', ['N', IN, SIZE, SIZE]);
  const wn = g.constant('w', float32([OUT, IN / GROUPS, K, K], w));
  const bn = g.constant('b', float32([OUT], b));
  g.node(
    'Conv',
    ['x', wn, bn],
    { group: attr.int(GROUPS), pads: attr.ints([1, 1, 1, 1]) },
    {
      name: 'conv',
      outputs: ['y'],
    },
  );
  g.output('y', 'float32', ['N', OUT, SIZE, SIZE]);
  return { model: createModel(g.graph, 17), w, b };
}

/** Inputs with a large positive mean per channel (what makes the rounding error's mean matter). */
function inputs(): Float32Array[] {
  const rng = mulberry32(9);
  return [0, 1].map(() =>
    Float32Array.from({ length: 2 * IN * SIZE * SIZE }, (_, i) => {
      const c = Math.floor(i / (SIZE * SIZE)) % IN;
      return 3 + c + (rng() - 0.5);
    }),
  );
}
const batches = (xs: Float32Array[]) =>
  async function* (): AsyncIterable<Feeds> {
    for (const x of xs) yield { x: float32([2, IN, SIZE, SIZE], x) };
  };

test('the corrected bias is b − ΔW · E[x], computed independently', async () => {
  const { model, w, b } = convModel();
  const xs = inputs();
  const means = await channelMeans(model, ['x'], batches(xs));
  // Input channel means by hand.
  const expectedMean = new Float64Array(IN);
  for (const x of xs)
    for (let i = 0; i < x.length; i++) {
      const c = Math.floor(i / (SIZE * SIZE)) % IN;
      expectedMean[c] = expectedMean[c]! + x[i]!;
    }
  for (let c = 0; c < IN; c++) expectedMean[c] = expectedMean[c]! / (2 * xs.length * SIZE * SIZE);
  const got = means.get('x')!;
  for (let c = 0; c < IN; c++) assert.ok(Math.abs(got[c]! - expectedMean[c]!) < 1e-9);

  const corrected = correctBiases(model, means, new Set(['conv']), true);
  const conv = corrected.graph.nodes.find((n) => n.name === 'conv')!;
  const newBias = corrected.graph.initializers.get(conv.inputs[2]!)!.data as Float32Array;
  const per = (IN / GROUPS) * K * K;
  for (let o = 0; o < OUT; o++) {
    const row = w.subarray(o * per, (o + 1) * per);
    const scale = Math.max(...Array.from(row, Math.abs)) / 127;
    const group = Math.floor(o / (OUT / GROUPS));
    let shift = 0;
    for (let j = 0; j < per; j++) {
      const inChannel = group * (IN / GROUPS) + Math.floor(j / (K * K));
      const q = Math.max(-127, Math.min(127, Math.round(row[j]! / scale)));
      shift += (q * scale - row[j]!) * expectedMean[inChannel]!;
    }
    assert.ok(
      Math.abs(newBias[o]! - (b[o]! - shift)) < 1e-5,
      `channel ${o}: ${newBias[o]} vs ${b[o]! - shift}`,
    );
    assert.ok(Math.abs(shift) > 1e-4, 'the fixture rounds its weights with a visible mean shift');
  }
  // A Conv not named is left alone, and the original model is not changed.
  const untouched = correctBiases(model, means, new Set(), true);
  const plain = untouched.graph.nodes.find((n) => n.name === 'conv')!;
  assert.deepEqual(untouched.graph.initializers.get(plain.inputs[2]!)!.data, b);
  assert.deepEqual(model.graph.initializers.get('b')!.data, b);
});

/** Per-channel mean of output y over the batches. */
async function outputMeans(model: Model, xs: Float32Array[]): Promise<Float64Array> {
  const s = await Session.create(model, { validate: false });
  const sum = new Float64Array(OUT);
  try {
    for await (const feeds of batches(xs)()) {
      const y = (await s.run(feeds, ['y']))['y']!.data as Float32Array;
      for (let i = 0; i < y.length; i++) {
        const c = Math.floor(i / (SIZE * SIZE)) % OUT;
        sum[c] = sum[c]! + y[i]!;
      }
    }
  } finally {
    await s.release();
  }
  return sum.map((v) => v / (2 * xs.length * SIZE * SIZE));
}

test('in ONNX Runtime, the corrected int8 Conv’s mean output is closer to the float one', async () => {
  const { model } = convModel();
  const xs = inputs();
  const ranges = await calibrate(model, tensorsToCalibrate(model.graph), batches(xs));
  const means = await channelMeans(model, ['x'], batches(xs));
  const float = await outputMeans(model, xs);
  const plain = await outputMeans(insertQdq(model, ranges).model, xs);
  const corrected = await outputMeans(
    insertQdq(correctBiases(model, means, new Set(['conv']), true), ranges).model,
    xs,
  );
  const meanError = (m: Float64Array) => m.reduce((a, v, c) => a + Math.abs(v - float[c]!), 0) / OUT;
  assert.ok(
    meanError(corrected) < meanError(plain) / 2,
    `mean |Δ| per channel: corrected ${meanError(corrected)} vs plain ${meanError(plain)}`,
  );
});

test('quantizeModel corrects biases by default in static mode, not when told, and refuses it in dynamic mode', async () => {
  const { model } = convModel();
  const xs = inputs();
  const on = await quantizeModel(model, batches(xs));
  const off = await quantizeModel(model, batches(xs), { biasCorrection: false });
  assert.equal(on.report.biasCorrection, true);
  assert.equal(off.report.biasCorrection, false);
  const int32Bias = (m: Model) =>
    Array.from(
      [...m.graph.initializers.values()].find((t) => t.dtype === 'int32' && t.shape.length === 1)!
        .data as Int32Array,
    );
  assert.notDeepEqual(int32Bias(on.model), int32Bias(off.model));
  await assert.rejects(
    quantizeModel(model, batches(xs), { mode: 'dynamic', biasCorrection: true }),
    (e) => isGraftError(e) && e.code === 'BAD_OPTION',
  );
});
