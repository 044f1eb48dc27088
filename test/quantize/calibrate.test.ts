/** Calibration on a tiny fixed model, checked against ranges computed by hand. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';
import {
  calibrate,
  entropyThreshold,
  percentileOfHistogram,
  type Feeds,
} from '../../src/quantize/calibrate.js';
import { float32 } from '../../src/tensor.js';

/** x → Mul(2) → y → Relu → z → Add(-1) → out. */
function tinyModel() {
  const b = new GraphBuilder('tiny');
  b.input('x', 'float32', ['batch', 3]);
  const two = b.constant('two', float32([], [2]));
  const minusOne = b.constant('minus_one', float32([], [-1]));
  b.node('Mul', ['x', two], {}, { outputs: ['y'] });
  b.node('Relu', ['y'], {}, { outputs: ['z'] });
  b.node('Add', ['z', minusOne], {}, { outputs: ['out'] });
  b.output('out', 'float32', ['batch', 3]);
  return createModel(b.graph, 17);
}

const batches = (rows: number[][][]) =>
  async function* (): AsyncIterable<Feeds> {
    for (const r of rows) yield { x: float32([r.length, 3], r.flat()) };
  };

test('minmax ranges over two streamed batches equal the hand-computed extremes', async () => {
  const data = batches([
    [[-1, 0.5, 3]],
    [
      [2, -4, 1],
      [0, 0.25, -0.5],
    ],
  ]);
  const ranges = await calibrate(tinyModel(), ['x', 'y', 'z', 'out'], data, { method: 'minmax' });
  // x over both batches: [-4, 3]; y = 2x: [-8, 6]; z = relu(y): [0, 6]; out = z - 1: [-1, 5].
  assert.deepEqual(ranges.get('x'), { min: -4, max: 3 });
  assert.deepEqual(ranges.get('y'), { min: -8, max: 6 });
  assert.deepEqual(ranges.get('z'), { min: 0, max: 6 });
  assert.deepEqual(ranges.get('out'), { min: -1, max: 5 });
});

test('percentile clips the largest |x| outlier; minmax keeps it', async () => {
  // 999 values in [-1, 1], one at 100, two zeros (334 rows of 3).
  const values = Array.from({ length: 999 }, (_, i) => Math.sin(i));
  values.push(100);
  const model = tinyModel();
  const withOutlier = async function* (): AsyncIterable<Feeds> {
    yield { x: float32([334, 3], [...values, 0, 0]) };
  };
  const mm2 = await calibrate(model, ['x'], withOutlier, { method: 'minmax' });
  assert.equal(mm2.get('x')!.max, 100);
  // 99th percentile of |x| over 1002 values: at most ~1 (the sines), far below the outlier.
  const pc = await calibrate(model, ['x'], withOutlier, { method: 'percentile', percentile: 99 });
  const r = pc.get('x')!;
  assert.ok(r.max > 0.9 && r.max <= 1.1, `percentile max ${r.max}`);
  assert.ok(r.min < -0.9 && r.min >= -1.1, `percentile min ${r.min}`);
});

test('percentileOfHistogram and entropyThreshold on hand-made histograms', () => {
  // 100 bins of width 1, one count per bin: the 90th percentile ends at bin 90.
  const flat = new Float64Array(100).fill(1);
  assert.equal(percentileOfHistogram(flat, 1, 90), 90);
  assert.equal(percentileOfHistogram(flat, 1, 100), 100);
  // Mass in the first 300 of 2048 bins and a single far outlier: the KL threshold stays near the mass.
  const hist = new Float64Array(2048);
  for (let i = 0; i < 300; i++) hist[i] = 1000 - i * 3;
  hist[2047] = 1;
  const t = entropyThreshold(hist, 1, 128);
  assert.ok(t >= 128 && t < 600, `threshold ${t}`);
  // With no outlier far out and the mass spread over all bins, the threshold keeps (nearly) everything.
  const wide = new Float64Array(512).fill(10);
  assert.ok(entropyThreshold(wide, 1, 128) >= 500);
});
