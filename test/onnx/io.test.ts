import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Long from 'long';
import { isGraftError } from '../../src/errors.js';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel, type Graph, type Model } from '../../src/onnx/ir.js';
import { decodeModel, encodeModel, loadModel, saveModel } from '../../src/onnx/io.js';
import { ModelProtoType } from '../../src/onnx/schema.js';
import { Session } from '../../src/runtime/session.js';
import { float32, int64, tensor } from '../../src/tensor.js';

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

function subgraph(name: string): Graph {
  const b = new GraphBuilder(name);
  b.input('s_in', 'float32', [2]);
  b.op('Neg', ['s_in'], {}, { outputs: ['s_out'] });
  b.output('s_out', 'float32', [2]);
  return b.graph;
}

/** A graph whose one custom-domain node carries every attribute type graft interprets. */
function everyAttribute(): Model {
  const b = new GraphBuilder('attrs');
  b.input('x', 'float32', ['batch', 3, null]);
  b.initializer('w', float32([3], [1, -0, NaN]));
  b.initializer('labels', tensor('string', [2], ['cat', 'dög']));
  b.initializer('big', int64([3], [INT64_MAX, INT64_MIN, 2n ** 53n + 1n]));
  b.initializer('half', tensor('float16', [2], new Uint16Array([0x3c00, 0x7e00])));
  b.initializer('flags', tensor('bool', [2], new Uint8Array([1, 0])));
  b.op(
    'Custom',
    ['x', 'w', '', 'labels'],
    {
      f: attr.float(0.25),
      i: attr.int(-7),
      s: attr.string('héllo'),
      t: attr.tensor(float32([2, 2], [1, 2, 3, 4])),
      g: attr.graph(subgraph('body')),
      fs: attr.floats([0.5, -1.5]),
      is: attr.ints([1, 2 ** 40, -3]),
      ss: attr.strings(['a', '', 'c']),
      ts: { type: 'tensors', value: [int64([2], [1, 2]), tensor('uint8', [1], new Uint8Array([255]))] },
      gs: { type: 'graphs', value: [subgraph('then'), subgraph('else')] },
    },
    { domain: 'com.example', outputs: ['y'] },
  );
  b.output('y', 'float32', ['batch', 3, null]);
  return createModel(b.graph, 17, [{ domain: 'com.example', version: 1 }]);
}

test('a builder graph with every attribute type survives encode/decode unchanged', () => {
  const model = everyAttribute();
  const back = decodeModel(encodeModel(model));
  assert.deepEqual(back, model);
  const big = back.graph.initializers.get('big')!.data as BigInt64Array;
  assert.deepEqual([...big], [INT64_MAX, INT64_MIN, 2n ** 53n + 1n]);
  assert.equal(encodeModel(back).byteLength, encodeModel(model).byteLength);
});

test('int64 attributes at the limits (Slice ends = INT64_MAX) are written exactly', async () => {
  const b = new GraphBuilder('slice');
  b.input('x', 'float32', [2, 5]);
  b.op(
    'Slice',
    ['x'],
    { starts: attr.ints([1]), ends: attr.ints([2 ** 63]), axes: attr.ints([1]) },
    { outputs: ['y'] },
  );
  b.op(
    'Slice',
    ['x'],
    { starts: attr.ints([-(2 ** 63)]), ends: attr.ints([3]), axes: attr.ints([1]) },
    { outputs: ['z'] },
  );
  b.output('y', 'float32', [2, 4]);
  b.output('z', 'float32', [2, 3]);
  const model = createModel(b.graph, 9);
  const bytes = encodeModel(model);
  const raw = ModelProtoType.toObject(ModelProtoType.decode(bytes), { longs: String }) as {
    graph: { node: { attribute: { name: string; ints: string[] }[] }[] };
  };
  const ints = (n: number, name: string): string[] =>
    raw.graph.node[n]!.attribute.find((a) => a.name === name)!.ints;
  assert.deepEqual(ints(0, 'ends'), [INT64_MAX.toString()]);
  assert.deepEqual(ints(1, 'starts'), [INT64_MIN.toString()]);
  assert.ok(Long.fromString(ints(0, 'ends')[0]!).equals(Long.MAX_VALUE));
  const session = await Session.create(decodeModel(bytes), { threads: 1 });
  const out = await session.run({ x: float32([2, 5], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) });
  assert.deepEqual([...(out['y']!.data as Float32Array)], [1, 2, 3, 4, 6, 7, 8, 9]);
  assert.deepEqual([...(out['z']!.data as Float32Array)], [0, 1, 2, 5, 6, 7]);
  await session.release();
});

test('saveModel with externalDataThreshold writes a data file and loads back identical tensors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'graft-io-'));
  try {
    const model = everyAttribute();
    const big = float32(
      [64, 33],
      Array.from({ length: 64 * 33 }, (_, i) => Math.sin(i)),
    );
    model.graph.initializers.set('big_w', big);
    model.graph.initializers.set(
      'big_i',
      int64(
        [300],
        Array.from({ length: 300 }, (_, i) => (BigInt(i) * INT64_MAX) / 300n),
      ),
    );
    const path = join(dir, 'model.onnx');
    await saveModel(model, path, { externalDataThreshold: 1024 });
    const dataFile = await stat(join(dir, 'model.onnx.data'));
    assert.ok(dataFile.size >= 64 * 33 * 4 + 300 * 8, `data file has ${dataFile.size} bytes`);
    assert.ok((await stat(path)).size < 4096, 'large tensors must not be inside model.onnx');
    const back = await loadModel(path);
    assert.deepEqual(back.graph.initializers, model.graph.initializers);
    assert.deepEqual(back, model);
    // The small-tensor path still writes everything inline.
    await saveModel(model, join(dir, 'inline.onnx'));
    assert.deepEqual(await loadModel(join(dir, 'inline.onnx')), model);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

function assertCorrupt(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isGraftError(e, 'CORRUPT_MODEL'), `expected CORRUPT_MODEL, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('bad files are CORRUPT_MODEL errors with a clear message', async () => {
  const good = encodeModel(everyAttribute());
  assertCorrupt(() => decodeModel(new Uint8Array(0)), /empty \(0 bytes\)/);
  for (const cut of [1, 10, good.byteLength >> 1, good.byteLength - 1]) {
    assertCorrupt(() => decodeModel(good.subarray(0, cut)), /not .*ONNX model|truncated/);
  }
  const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
  assertCorrupt(
    () => decodeModel(png, { label: 'cat.png' }),
    /cat\.png is not a valid ONNX model: .*PNG image/,
  );
  const json = Buffer.from(JSON.stringify({ format: 'layers-model', modelTopology: {} }));
  assertCorrupt(() => decodeModel(json), /JSON/);
  assertCorrupt(() => decodeModel(Buffer.from('not a model at all\n')), /not .*ONNX model/);
  const dir = await mkdtemp(join(tmpdir(), 'graft-io-'));
  try {
    await writeFile(join(dir, 'empty.onnx'), new Uint8Array(0));
    await assert.rejects(loadModel(join(dir, 'empty.onnx')), (e: unknown) => {
      assert.ok(isGraftError(e, 'CORRUPT_MODEL'));
      assert.match(e.message, /empty\.onnx' is empty/);
      return true;
    });
    await assert.rejects(loadModel(join(dir, 'missing.onnx')), (e: unknown) =>
      isGraftError(e, 'MODEL_NOT_FOUND'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a model whose opset is outside the supported range is rejected unless anyOpset is set', () => {
  for (const opset of [5, 99]) {
    const model = everyAttribute();
    model.opsetImports[0]!.version = opset;
    const bytes = encodeModel(model);
    assertCorrupt(() => decodeModel(bytes), new RegExp(`opset ${opset}; graft supports opsets 7`));
    assert.equal(decodeModel(bytes, { anyOpset: true }).opsetImports[0]!.version, opset);
  }
  const none = everyAttribute();
  none.opsetImports = [];
  assertCorrupt(() => decodeModel(encodeModel(none)), /no opset imports/);
});

test('external data pointing outside the model directory is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'graft-io-'));
  try {
    const model = createModel(everyAttribute().graph);
    model.graph.initializers.set('w2', float32([512], new Float32Array(512)));
    await saveModel(model, join(dir, 'm.onnx'), { externalDataThreshold: 1024, externalDataFile: 'w.bin' });
    const bytes = await readFile(join(dir, 'm.onnx'));
    const evil = Buffer.from(bytes.toString('latin1').replace('w.bin', '../x.b'), 'latin1');
    assert.throws(
      () => decodeModel(evil, { baseDir: dir }),
      (e: unknown) => isGraftError(e, 'CORRUPT_MODEL'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
