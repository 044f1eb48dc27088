import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  concatFeatureId,
  featureParts,
  formatFeatureId,
  gridWindow,
  parseFeatureId,
} from '../../src/features/feature-id.js';
import { buildPooledPrefix, featureOutputName } from '../../src/features/pooled-prefix.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { createModel, emptyGraph } from '../../src/onnx/ir.js';
import { Session } from '../../src/runtime/session.js';
import { isGraftError } from '../../src/errors.js';

test('feature ids: a tensor alone is global pooling, @gxg a grid; malformed grids are refused', () => {
  assert.deepEqual(parseFeatureId('block_12_add'), { tensor: 'block_12_add', grid: 1 });
  assert.deepEqual(parseFeatureId('a/b:0@2x2'), { tensor: 'a/b:0', grid: 2 });
  assert.equal(formatFeatureId({ tensor: 'x', grid: 3 }), 'x@3x3');
  assert.equal(formatFeatureId({ tensor: 'x', grid: 1 }), 'x');
  assert.throws(
    () => parseFeatureId('x@2x3'),
    (e) => isGraftError(e, 'BAD_OPTION'),
  );
  assert.throws(
    () => parseFeatureId('x@0x0'),
    (e) => isGraftError(e, 'BAD_OPTION'),
  );
});

test('grid windows cover the map: disjoint when the size divides, overlapping by the remainder otherwise', () => {
  assert.deepEqual(gridWindow(14, 2), { kernel: 7, stride: 7 });
  assert.deepEqual(gridWindow(7, 2), { kernel: 4, stride: 3 });
  assert.deepEqual(gridWindow(8, 3), { kernel: 4, stride: 2 });
  for (const [size, g] of [
    [14, 2],
    [7, 2],
    [8, 3],
    [17, 3],
  ] as const) {
    const { kernel, stride } = gridWindow(size, g);
    assert.equal(stride * (g - 1) + kernel, size, `${size}/${g}: the last window ends at the edge`);
  }
});

test('the pooled prefix averages each grid region of a [N,C,H,W] map, channel-major, as computed by hand', async () => {
  // Identity "backbone" over a [N,2,7,5] input: the map is the input itself.
  const [c, h, w] = [2, 7, 5];
  const g = emptyGraph('id');
  const b = new GraphBuilder(g);
  b.input('x', 'float32', ['batch', c, h, w]);
  b.op('Identity', ['x'], {}, { outputs: ['map'] });
  b.output('map', 'float32', ['batch', c, h, w]);
  const prefix = await buildPooledPrefix(createModel(g), 'x', ['map', 'map@2x2'], [1, c, h, w]);
  assert.deepEqual(prefix.dims, [c, c * 4]);
  const n = 2;
  const data = Float32Array.from({ length: n * c * h * w }, (_, i) => Math.sin(i * 1.7) * 3);
  const session = await Session.create(prefix.model);
  const out = await session.run({ x: { dtype: 'float32', shape: [n, c, h, w], data } });
  await session.release();
  const mean = (i: number, ch: number, ys: number[], xs: number[]) => {
    let s = 0;
    for (const y of ys) for (const x of xs) s += data[((i * c + ch) * h + y) * w + x]!;
    return s / (ys.length * xs.length);
  };
  const range = (a: number, z: number) => Array.from({ length: z - a }, (_, k) => a + k);
  // 7 rows, 2 regions: rows 0-3 and 3-6; 5 columns: columns 0-2 and 2-4.
  const rows = [range(0, 4), range(3, 7)];
  const cols = [range(0, 3), range(2, 5)];
  const grid = out[featureOutputName('map@2x2')]!.data as Float32Array;
  const global = out[featureOutputName('map')]!.data as Float32Array;
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      assert.ok(Math.abs(global[i * c + ch]! - mean(i, ch, range(0, h), range(0, w))) < 1e-5);
      for (let gy = 0; gy < 2; gy++)
        for (let gx = 0; gx < 2; gx++) {
          const got = grid[i * c * 4 + ch * 4 + gy * 2 + gx]!;
          assert.ok(Math.abs(got - mean(i, ch, rows[gy]!, cols[gx]!)) < 1e-5, `${i},${ch},${gy},${gx}`);
        }
    }
  }
});

test('a concatenated feature id lists its parts; fine-tuning (one cut) refuses it', () => {
  assert.equal(concatFeatureId(['a@2x2', 'b']), 'a@2x2+b');
  assert.deepEqual(featureParts('a@2x2+b'), [
    { tensor: 'a', grid: 2 },
    { tensor: 'b', grid: 1 },
  ]);
  assert.deepEqual(featureParts('b'), [{ tensor: 'b', grid: 1 }]);
  assert.throws(
    () => parseFeatureId('a@2x2+b'),
    (e) => isGraftError(e, 'BAD_OPTION') && /one tensor/.test((e as Error).message),
  );
  assert.throws(
    () => featureParts('a++b'),
    (e) => isGraftError(e, 'BAD_OPTION'),
  );
});

test('the pooled prefix of `a+b` is the pooled parts side by side, row for row', async () => {
  const [c, h, w] = [3, 6, 4];
  const g = emptyGraph('two-maps');
  const b = new GraphBuilder(g);
  b.input('x', 'float32', ['batch', c, h, w]);
  b.op('Identity', ['x'], {}, { outputs: ['map'] });
  b.op('Relu', ['x'], {}, { outputs: ['relu'] });
  b.output('relu', 'float32', ['batch', c, h, w]);
  const features = ['map@2x2', 'relu', 'map@2x2+relu'];
  const prefix = await buildPooledPrefix(createModel(g), 'x', features, [1, c, h, w]);
  assert.deepEqual(prefix.dims, [c * 4, c, c * 5]);
  const n = 3;
  const data = Float32Array.from({ length: n * c * h * w }, (_, i) => Math.cos(i * 0.9) * 2);
  const session = await Session.create(prefix.model);
  const out = await session.run({ x: { dtype: 'float32', shape: [n, c, h, w], data } });
  await session.release();
  const [grid, relu, both] = features.map((f) => out[featureOutputName(f)]!.data as Float32Array);
  for (let i = 0; i < n; i++) {
    const expected = [...grid!.subarray(i * c * 4, (i + 1) * c * 4), ...relu!.subarray(i * c, (i + 1) * c)];
    assert.deepEqual(Array.from(both!.subarray(i * c * 5, (i + 1) * c * 5)), expected, `row ${i}`);
  }
});
