/**
 * Dynamic MatMul quantization (src/quantize/dynamic.ts): graft's activation parameters against ONNX's
 * DynamicQuantizeLinear conformance cases, then a small two-MatMul graph run by ONNX Runtime against the same
 * integer arithmetic computed here by hand, the graph's structure, ONNX Runtime's fusion (MatMulIntegerToFloat), and the guard's
 * refusal of calibration options that dynamic quantization cannot honour.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isGraftError } from '../../src/errors.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { createModel, type Model } from '../../src/onnx/ir.js';
import { encodeModel, decodeModel } from '../../src/onnx/io.js';
import { Session } from '../../src/runtime/session.js';
import { insertDynamic } from '../../src/quantize/dynamic.js';
import { activationParams, quantize, roundHalfEven } from '../../src/quantize/params.js';
import { quantizeModel } from '../../src/quantize/quantize.js';
import type { Tensor } from '../../src/tensor.js';
import { readDataSets, TESTDATA_ROOT } from '../onnx/conformance-data.js';
import * as ort from 'onnxruntime-node';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

const NODE = join(TESTDATA_ROOT, 'node');
const have = existsSync(join(NODE, 'test_dynamicquantizelinear'));

/** DynamicQuantizeLinear as graft's arithmetic computes it: uint8 over [min(0, x), max(0, x)]. */
function dynamicQuantize(x: Float32Array): { q: Uint8Array; scale: number; zeroPoint: number } {
  let lo = 0;
  let hi = 0;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const p = activationParams(lo, hi, 'uint8');
  return { q: quantize(x, [x.length], p) as Uint8Array, scale: p.scale[0]!, zeroPoint: p.zeroPoint[0]! };
}

for (const name of [
  'test_dynamicquantizelinear',
  'test_dynamicquantizelinear_max_adjusted',
  'test_dynamicquantizelinear_min_adjusted',
]) {
  test(
    `activation parameters match ONNX conformance case ${name}`,
    { skip: !have && 'no libonnx-testdata' },
    () => {
      const [set] = readDataSets(join(NODE, name));
      const x = set!.inputs[0]!.tensor.data as Float32Array;
      const [q, scale, zp] = set!.outputs;
      const got = dynamicQuantize(x);
      assert.deepEqual(Array.from(got.q), Array.from(q!.data as Uint8Array));
      assert.equal(got.scale, (scale!.data as Float32Array)[0]);
      assert.equal(got.zeroPoint, (zp!.data as Uint8Array)[0]);
    },
  );
}

const K = 8;
const seeded = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;

/** x [2, 3, K] · W1 [K, 5] + b, and x · W2 [K, 4] (two MatMuls reading one activation), and x · xᵀ. */
function smallModel(): { model: Model; w1: Float32Array; w2: Float32Array; bias: Float32Array } {
  const r = seeded(7);
  const w1 = Float32Array.from({ length: K * 5 }, (_, i) => r() * (1 + (i % 5)));
  const w2 = Float32Array.from({ length: K * 4 }, () => r() * 0.1);
  const bias = Float32Array.from({ length: 5 }, () => r());
  const b = new GraphBuilder('dyn');
  b.input('x', 'float32', [2, 3, K]);
  const y1 = b.op(
    'MatMul',
    ['x', b.constant('w1', { dtype: 'float32', shape: [K, 5], data: w1 })],
    {},
    { name: 'mm1' },
  );
  b.op(
    'Add',
    [y1, b.constant('bias', { dtype: 'float32', shape: [5], data: bias })],
    {},
    { outputs: ['y1'] },
  );
  b.op(
    'MatMul',
    ['x', b.constant('w2', { dtype: 'float32', shape: [K, 4], data: w2 })],
    {},
    { name: 'mm2', outputs: ['y2'] },
  );
  const xt = b.op('Transpose', ['x'], { perm: { type: 'ints', value: [0, 2, 1] } });
  b.op('MatMul', ['x', xt], {}, { name: 'mm3', outputs: ['y3'] });
  for (const o of ['y1', 'y2', 'y3']) b.output(o, 'float32');
  return { model: createModel(b.graph, 17), w1, w2, bias };
}

/** y[r, j] = Σ_k (x_q[r, k] − zp) · W_q[k, j] · x_scale · W_scale[j], in float64 from the integer sums. */
function reference(x: Float32Array, w: Float32Array, n: number, perChannel: boolean): Float64Array {
  const xq = dynamicQuantize(x);
  const scales = Array.from({ length: perChannel ? n : 1 }, (_, j) => {
    let m = 0;
    for (let k = 0; k < K; k++)
      for (let c = 0; c < n; c++) if (!perChannel || c === j) m = Math.max(m, Math.abs(w[k * n + c]!));
    return Math.fround(m / 127);
  });
  const s = (j: number) => scales[perChannel ? j : 0]!;
  const rows = x.length / K;
  const out = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let k = 0; k < K; k++) {
        const wq = Math.max(-127, Math.min(127, roundHalfEven(w[k * n + j]! / s(j))));
        acc += (xq.q[r * K + k]! - xq.zeroPoint) * wq;
      }
      out[r * n + j] = acc * Math.fround(xq.scale * s(j));
    }
  return out;
}

async function run(model: Model, x: Float32Array): Promise<Record<string, Tensor>> {
  const s = await Session.create(model, { validate: false });
  try {
    return await s.run({ x: { dtype: 'float32', shape: [2, 3, K], data: x } });
  } finally {
    await s.release();
  }
}

for (const perChannel of [true, false]) {
  test(`dynamic MatMuls equal the integer arithmetic computed by hand (${perChannel ? 'per column' : 'per tensor'})`, async () => {
    const { model, w1, w2, bias } = smallModel();
    const r = seeded(3);
    const x = Float32Array.from({ length: 2 * 3 * K }, () => r() * 4 + 0.5);
    const q = insertDynamic(model, { perChannel });
    assert.deepEqual(q.quantizedNodes.sort(), ['mm1', 'mm2'], 'x · xᵀ has no constant weight');
    const ops = q.model.graph.nodes.map((n) => n.opType);
    assert.equal(
      ops.filter((o) => o === 'DynamicQuantizeLinear').length,
      1,
      'one quantization of x for both',
    );
    assert.equal(ops.filter((o) => o === 'MatMulInteger').length, 2);
    assert.equal(ops.filter((o) => o === 'MatMul').length, 1);
    assert.ok(
      !q.model.graph.initializers.has('w1') && !q.model.graph.initializers.has('w2'),
      'float weights dropped',
    );
    const got = await run(q.model, x);
    const float = await run(model, x);
    const ref1 = reference(x, w1, 5, perChannel);
    const ref2 = reference(x, w2, 4, perChannel);
    const y1 = got['y1']!.data as Float32Array;
    const y2 = got['y2']!.data as Float32Array;
    for (let i = 0; i < ref1.length; i++)
      assert.ok(Math.abs(y1[i]! - (ref1[i]! + bias[i % 5]!)) <= 1e-5 * (1 + Math.abs(ref1[i]!)), `y1[${i}]`);
    for (let i = 0; i < ref2.length; i++)
      assert.ok(Math.abs(y2[i]! - ref2[i]!) <= 1e-5 * (1 + Math.abs(ref2[i]!)), `y2[${i}]`);
    assert.deepEqual(
      Array.from(got['y3']!.data as Float32Array),
      Array.from(float['y3']!.data as Float32Array),
    );
    // …and it is not the float result, but close to it.
    const f1 = float['y1']!.data as Float32Array;
    assert.ok(f1.some((v, i) => v !== y1[i]));
    let err = 0;
    let norm = 0;
    f1.forEach((v, i) => ((err += (v - y1[i]!) ** 2), (norm += v * v)));
    assert.ok(Math.sqrt(err / norm) < 0.05, `relative L2 error ${Math.sqrt(err / norm)}`);
  });
}

test('exclude leaves a MatMul in float', () => {
  const q = insertDynamic(smallModel().model, { exclude: new Set(['mm2']) });
  assert.deepEqual(q.quantizedNodes, ['mm1']);
  assert.ok(q.model.graph.nodes.some((n) => n.name === 'mm2' && n.opType === 'MatMul'));
});

test('ONNX Runtime fuses each MatMulInteger → Cast → Mul into MatMulIntegerToFloat', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'graft-dynamic-'));
  try {
    const optimized = join(tmp, 'optimized.onnx');
    const s = await ort.InferenceSession.create(encodeModel(insertDynamic(smallModel().model).model), {
      graphOptimizationLevel: 'all',
      optimizedModelFilePath: optimized,
      logSeverityLevel: 3,
    });
    await s.release();
    const ops = decodeModel(await readFile(optimized), { anyOpset: true }).graph.nodes.map((n) => n.opType);
    // x is quantized once for both MatMuls, so its DynamicQuantizeLinear stays a node of its own.
    assert.equal(ops.filter((o) => o === 'MatMulIntegerToFloat').length, 2, ops.join(' '));
    assert.ok(!ops.includes('MatMulInteger') && !ops.includes('Cast'));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('dynamic mode refuses calibration options it cannot honour', async () => {
  const batches = async function* () {};
  for (const o of [{ method: 'entropy' as const }, { activationType: 'int8' as const }])
    await assert.rejects(
      quantizeModel(smallModel().model, batches, { mode: 'dynamic', ...o }),
      (e) => isGraftError(e) && e.code === 'BAD_OPTION',
    );
});
