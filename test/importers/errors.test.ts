import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGraftError } from '../../src/errors.js';
import { importKerasModel } from '../../src/importers/keras/index.js';
import { importTfjsGraphModel, type GraphModelJson } from '../../src/importers/tfjs-graph/index.js';
import { decodeWeights, halfToFloat } from '../../src/importers/tfjs-weights.js';
import { getModelSpec, loadBackbone } from '../../src/models/registry.js';
import { KerasJsonBuilder, sequentialModel } from './keras-fixtures.js';

test('unknown Keras layer class → UNSUPPORTED_OP naming the layer and its class', () => {
  const b = new KerasJsonBuilder();
  const x = b.input('x', [null, 4, 4, 3]);
  const y = b.layer('LSTMCellThing', 'weird_layer', {}, [x]);
  const { json, shards } = b.build([x], [y]);
  assert.throws(
    () => importKerasModel(json, shards),
    (e: unknown) =>
      isGraftError(e, 'UNSUPPORTED_OP') &&
      e.message.includes('weird_layer') &&
      e.message.includes('LSTMCellThing') &&
      e.context['layer'] === 'weird_layer',
  );
});

test('unknown graph op → UNSUPPORTED_OP naming the node and op', () => {
  const json: GraphModelJson = {
    format: 'graph-model',
    modelTopology: {
      node: [
        {
          name: 'x',
          op: 'Placeholder',
          attr: { shape: { shape: { dim: [{ size: '-1' }, { size: '3' }] } } },
        },
        { name: 'odd/node', op: 'FancyOp', input: ['x'] },
      ],
    },
    weightsManifest: [],
  };
  assert.throws(
    () => importTfjsGraphModel(json, new Map()),
    (e: unknown) =>
      isGraftError(e, 'UNSUPPORTED_OP') && e.message.includes('odd/node') && e.message.includes('FancyOp'),
  );
});

test('weight shard of the wrong length → CORRUPT_MODEL', () => {
  const { json, shards } = sequentialModel();
  const bytes = shards.get('shard1')!;
  for (const bad of [bytes.subarray(0, bytes.length - 4), new Uint8Array(bytes.length + 1)]) {
    assert.throws(
      () => importKerasModel(json, new Map([['shard1', bad]])),
      (e: unknown) => isGraftError(e, 'CORRUPT_MODEL'),
    );
  }
});

test('unknown model id → MODEL_NOT_FOUND listing the known ids', async () => {
  assert.throws(
    () => getModelSpec('npm:nsfwjs/resnet9000'),
    (e: unknown) => isGraftError(e, 'MODEL_NOT_FOUND') && e.message.includes('npm:nsfwjs/mobilenet_v2'),
  );
  await assert.rejects(loadBackbone('file:/nonexistent/graft-model-dir'), (e: unknown) =>
    isGraftError(e, 'MODEL_NOT_FOUND'),
  );
});

test('weights: uint8, uint16 and float16 quantization, float32 and int32 raw', () => {
  const u8 = Uint8Array.from([0, 1, 255]);
  const u16 = new Uint8Array(Uint16Array.from([0, 2, 65535]).buffer);
  const f16 = new Uint8Array(Uint16Array.from([0x3c00, 0xc000, 0x3555]).buffer);
  const f32 = new Uint8Array(Float32Array.from([1.5, -2]).buffer);
  const i32 = new Uint8Array(Int32Array.from([7, -3]).buffer);
  const all = new Uint8Array([...u8, ...u16, ...f16, ...f32, ...i32]);
  const manifest = [
    {
      paths: ['a', 'b'],
      weights: [
        {
          name: 'q8',
          shape: [3],
          dtype: 'float32',
          quantization: { dtype: 'uint8' as const, min: -1, scale: 0.5 },
        },
        {
          name: 'q16',
          shape: [3],
          dtype: 'float32',
          quantization: { dtype: 'uint16' as const, min: 1, scale: 0.25 },
        },
        { name: 'h', shape: [3], dtype: 'float32', quantization: { dtype: 'float16' as const } },
        { name: 'f', shape: [2], dtype: 'float32' },
        { name: 'i', shape: [2], dtype: 'int32' },
      ],
    },
  ];
  const w = decodeWeights(
    manifest,
    new Map([
      ['a', all.subarray(0, 7)],
      ['b', all.subarray(7)],
    ]),
  );
  assert.deepEqual(Array.from(w.get('q8')!.data as Float32Array), [-1, -0.5, 126.5]);
  assert.deepEqual(Array.from(w.get('q16')!.data as Float32Array), [1, 1.5, 1 + 0.25 * 65535]);
  const h = Array.from(w.get('h')!.data as Float32Array);
  assert.deepEqual(h.slice(0, 2), [1, -2]);
  assert.ok(Math.abs(h[2]! - 1 / 3) < 1e-3);
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.deepEqual(Array.from(w.get('f')!.data as Float32Array), [1.5, -2]);
  assert.equal(w.get('i')!.dtype, 'int32');
  assert.deepEqual(Array.from(w.get('i')!.data as Int32Array), [7, -3]);
});
