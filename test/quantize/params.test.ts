/**
 * graft's quantization arithmetic against ONNX's own QuantizeLinear/DequantizeLinear conformance cases
 * (libonnx-testdata), and per-channel weight scales / int32 biases against values computed here by hand.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { getAttr } from '../../src/onnx/ir.js';
import { decodeModel } from '../../src/onnx/io.js';
import {
  activationParams,
  dequantize,
  quantize,
  quantizeBias,
  roundHalfEven,
  weightParams,
  type QuantParams,
  type QuantType,
} from '../../src/quantize/params.js';
import { readDataSets, TESTDATA_ROOT } from '../onnx/conformance-data.js';

const NODE = join(TESTDATA_ROOT, 'node');
const have = existsSync(join(NODE, 'test_quantizelinear'));

/** The case's model attribute `axis` (default 1, as the operator defines it) when its scale is a vector. */
function caseAxis(dir: string, scaleRank: number): number | undefined {
  if (scaleRank === 0) return undefined;
  const model = decodeModel(readFileSync(join(dir, 'model.onnx')), { anyOpset: true });
  return getAttr(model.graph.nodes[0]!, 'axis', 'int') ?? 1;
}

for (const name of ['test_quantizelinear', 'test_quantizelinear_axis']) {
  test(
    `quantize matches ONNX conformance case ${name}`,
    { skip: !have && 'libonnx-testdata missing' },
    () => {
      const dir = join(NODE, name);
      const [set] = readDataSets(dir);
      const [x, scale, zp] = set!.inputs.map((i) => i.tensor);
      const axis = caseAxis(dir, scale!.shape.length);
      const p: QuantParams = {
        type: zp!.dtype as QuantType,
        scale: scale!.data as Float32Array,
        zeroPoint: Int32Array.from(zp!.data as Uint8Array),
        ...(axis !== undefined ? { axis } : {}),
      };
      const got = quantize(x!.data as Float32Array, x!.shape, p);
      assert.deepEqual(Array.from(got), Array.from(set!.outputs[0]!.data as Uint8Array));
    },
  );
}

for (const name of ['test_dequantizelinear', 'test_dequantizelinear_axis']) {
  test(
    `dequantize matches ONNX conformance case ${name}`,
    { skip: !have && 'libonnx-testdata missing' },
    () => {
      const dir = join(NODE, name);
      const [set] = readDataSets(dir);
      const [q, scale, zp] = set!.inputs.map((i) => i.tensor);
      const axis = caseAxis(dir, scale!.shape.length);
      const got = dequantize(
        q!.data as Uint8Array,
        q!.shape,
        scale!.data as Float32Array,
        Int32Array.from(zp!.data as Uint8Array),
        axis,
      );
      assert.deepEqual(Array.from(got), Array.from(set!.outputs[0]!.data as Float32Array));
    },
  );
}

test('quantize → dequantize of the conformance inputs is within half a step where not saturated', () => {
  if (!have) return;
  const [set] = readDataSets(join(NODE, 'test_quantizelinear_axis'));
  const [x, scale, zp] = set!.inputs.map((i) => i.tensor);
  const s = scale!.data as Float32Array;
  const z = Int32Array.from(zp!.data as Uint8Array);
  const data = x!.data as Float32Array;
  const q = quantize(data, x!.shape, { type: 'uint8', scale: s, zeroPoint: z, axis: 1 });
  const back = dequantize(q, x!.shape, s, z, 1);
  const inner = x!.shape[2]! * x!.shape[3]!;
  let checked = 0;
  data.forEach((v, i) => {
    const c = Math.floor(i / inner) % 3;
    if (q[i] === 0 || q[i] === 255) return;
    checked++;
    assert.ok(Math.abs(back[i]! - v) <= s[c]! / 2 + 1e-6, `element ${i}: ${v} → ${back[i]}`);
  });
  assert.ok(checked > 6);
});

test('rounding is half to even, as ONNX specifies', () => {
  assert.deepEqual(
    [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map(roundHalfEven),
    [0, 2, 2, -0, -2, -2, 2, -3],
  );
});

test('activation parameters: the range is widened to hold 0 and 0 is exact', () => {
  // [0.5, 6] becomes [0, 6]: scale 6/255, zero point at the lowest level.
  const relu = activationParams(0.5, 6, 'uint8');
  assert.equal(relu.scale[0], Math.fround(6 / 255));
  assert.equal(relu.zeroPoint[0], 0);
  const int8 = activationParams(0.5, 6, 'int8');
  assert.equal(int8.zeroPoint[0], -128);
  // [-1, 3]: scale 4/255, zero point round(0 - (-1)/scale) = round(63.75) = 64.
  const signed = activationParams(-1, 3, 'uint8');
  assert.equal(signed.scale[0], Math.fround(4 / 255));
  assert.equal(signed.zeroPoint[0], 64);
  const zero = quantize(Float32Array.of(0), [1], signed);
  assert.equal(dequantize(zero, [1], signed.scale, signed.zeroPoint)[0], 0);
});

test('per-channel weight scales along the output axis equal max|w| / 127 computed per channel by hand', () => {
  // A Conv weight [O=3, I=2, kh=2, kw=2] with a known largest magnitude per output channel.
  const shape = [3, 2, 2, 2];
  const w = new Float32Array(24);
  for (let o = 0; o < 3; o++)
    for (let i = 0; i < 2; i++)
      for (let k = 0; k < 4; k++) w[o * 8 + i * 4 + k] = Math.sin(o * 8 + i * 4 + k) * (o + 1);
  const expected = [0, 1, 2].map((o) => {
    let m = 0;
    for (let j = 0; j < 8; j++) m = Math.max(m, Math.abs(w[o * 8 + j]!));
    return Math.fround(m / 127);
  });
  const p = weightParams(w, shape, 0);
  assert.deepEqual(Array.from(p.scale), expected);
  assert.deepEqual(Array.from(p.zeroPoint), [0, 0, 0]);
  const q = quantize(w, shape, p, true);
  for (let i = 0; i < 24; i++) {
    const o = Math.floor(i / 8);
    assert.equal(q[i], roundHalfEven(w[i]! / expected[o]!));
    assert.ok(q[i]! >= -127 && q[i]! <= 127);
  }
  // Along axis 1 of a Gemm weight [K=4, N=2] (no transB): one scale per column.
  const g = Float32Array.of(1, -8, 2, 0.5, -3, 4, 0.25, 2);
  assert.deepEqual(Array.from(weightParams(g, [4, 2], 1).scale), [
    Math.fround(3 / 127),
    Math.fround(8 / 127),
  ]);
  // Per tensor: one scale from the largest magnitude.
  assert.deepEqual(Array.from(weightParams(g, [4, 2]).scale), [Math.fround(8 / 127)]);
});

test('biases are int32 at input_scale × weight_scale per channel', () => {
  const bias = Float32Array.of(0.5, -1.25, 3);
  const wScale = Float32Array.of(0.01, 0.02, 0.04);
  const { data, scale } = quantizeBias(bias, 0.1, wScale);
  assert.deepEqual(
    Array.from(scale),
    Array.from(wScale, (w) => Math.fround(0.1 * w)),
  );
  assert.deepEqual(Array.from(data), [500, -625, 750]);
});
