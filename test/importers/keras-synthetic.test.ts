import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importKerasModel } from '../../src/importers/keras/index.js';
import { KerasJsonBuilder, functionalModel, sequentialModel } from './keras-fixtures.js';
import { artifacts, maxAbsDiff, runGraft, seeded, tf } from './helpers.js';
import type { TfjsModelJson } from '../../src/sources/npm-models.js';

async function compare(built: ReturnType<typeof functionalModel>, shape: number[]): Promise<number[]> {
  const model = importKerasModel(built.json, built.shards);
  const n = shape.reduce((a, b) => a * b, 1);
  const x = seeded(n, 99, -1, 2);
  const ours = await runGraft(model, { dtype: 'float32', shape, data: x });
  const ref = await tf.loadLayersModel(
    tf.io.fromMemory(artifacts(built.json as unknown as TfjsModelJson, built.shards)),
  );
  const outs = ref.predict(tf.tensor(x, shape));
  const refs = Array.isArray(outs) ? outs : [outs];
  const diffs: number[] = [];
  for (let i = 0; i < refs.length; i++) {
    const info = model.graph.outputs[i]!;
    const got = ours[info.name]!;
    assert.deepEqual(got.shape, refs[i]!.shape, `output ${info.name} shape`);
    diffs.push(maxAbsDiff(got.data as Float32Array, await refs[i]!.data()));
  }
  return diffs;
}

test('functional Keras model matches tfjs (separable, concat, multiply, pooling, flatten→dense, same/stride 2)', async (t) => {
  const diffs = await compare(functionalModel(), [2, 9, 9, 3]);
  t.diagnostic(`max abs diffs: ${diffs.join(', ')}`);
  assert.equal(diffs.length, 2);
  for (const d of diffs) assert.ok(d <= 1e-4, `diff ${d}`);
});

test('functional model: spatial output is NHWC and named <layer>_nhwc; layer tensors keep Keras names', () => {
  const { json, shards } = functionalModel();
  const model = importKerasModel(json, shards);
  assert.deepEqual(
    model.graph.outputs.map((o) => [o.name, o.shape]),
    [
      ['sm', ['batch', 3]],
      ['mp_nhwc', ['batch', 2, 2, 16]],
    ],
  );
  const produced = new Set(model.graph.nodes.flatMap((n) => n.outputs));
  for (const name of ['c1', 'sep', 'bn', 'r6', 'mul', 'add', 'cat', 'fl', 'd1'])
    assert.ok(produced.has(name), name);
  for (const name of [
    'c1/kernel',
    'bn/gamma',
    'bn/beta',
    'bn/moving_mean',
    'bn/moving_variance',
    'd1/kernel',
  ]) {
    assert.ok(model.graph.initializers.has(name), name);
  }
  assert.ok(model.graph.nodes.some((n) => n.opType === 'BatchNormalization' && n.outputs[0] === 'bn'));
});

test('Sequential Keras model (no InputLayer, BN without scale) matches tfjs', async (t) => {
  const diffs = await compare(sequentialModel(), [3, 8, 8, 2]);
  t.diagnostic(`max abs diff: ${diffs.join(', ')}`);
  for (const d of diffs) assert.ok(d <= 1e-4, `diff ${d}`);
});

test('ReLU with max_value, negative_slope and threshold follows the Keras formula', async () => {
  const b = new KerasJsonBuilder();
  const x = b.input('x', [null, 7]);
  const r1 = b.layer('ReLU', 'r1', { max_value: 1.5, negative_slope: 0.1, threshold: 0.5 }, [x]);
  const r2 = b.layer('ReLU', 'r2', { max_value: null, negative_slope: 0.2, threshold: 0 }, [x]);
  const { json, shards } = b.build([x], [r1, r2]);
  const model = importKerasModel(json, shards);
  const input = [-2, -0.5, 0, 0.4, 0.5, 1, 3];
  const out = await runGraft(model, { dtype: 'float32', shape: [1, 7], data: Float32Array.from(input) });
  const keras = (v: number, max: number, slope: number, th: number): number =>
    v >= max ? max : v >= th ? v : slope * (v - th);
  assert.ok(
    maxAbsDiff(
      out['r1']!.data as Float32Array,
      input.map((v) => keras(v, 1.5, 0.1, 0.5)),
    ) < 1e-6,
  );
  assert.ok(
    maxAbsDiff(
      out['r2']!.data as Float32Array,
      input.map((v) => keras(v, Infinity, 0.2, 0)),
    ) < 1e-6,
  );
});
