import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel, type Dim } from '../../src/onnx/ir.js';
import { inferShapes } from '../../src/onnx/shape-inference.js';
import { Session } from '../../src/runtime/session.js';
import { float32, int64, sizeOf, tensor } from '../../src/tensor.js';

function weights(shape: number[]) {
  return float32(
    shape,
    Array.from({ length: sizeOf(shape) }, (_, i) => Math.sin(i) * 0.1),
  );
}

/** A small MobileNet-like net with a symbolic batch and an exporter-style Shape→Gather→Concat→Reshape. */
function convNet() {
  const b = new GraphBuilder('convnet');
  b.input('x', 'float32', ['batch', 3, 32, 32]);
  let h = b.op('Conv', ['x', b.constant('w0', weights([16, 3, 3, 3]))], {
    strides: attr.ints([2, 2]),
    pads: attr.ints([1, 1, 1, 1]),
  });
  const c16 = (v: number) => b.constant('bn', float32([16], new Array(16).fill(v)));
  h = b.op('BatchNormalization', [h, c16(1), c16(0), c16(0), c16(1)]);
  h = b.op(
    'Clip',
    [h, b.constant('lo', float32([], [0])), b.constant('hi', float32([], [6]))],
    {},
    { outputs: ['c1'] },
  );
  h = b.op('Conv', [h, b.constant('dw', weights([16, 1, 3, 3]))], {
    group: attr.int(16),
    auto_pad: attr.string('SAME_UPPER'),
  });
  h = b.op(
    'MaxPool',
    [h],
    { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), ceil_mode: attr.int(1) },
    { outputs: ['pool'] },
  );
  const pooled = b.op('GlobalAveragePool', [h], {}, { outputs: ['gap'] });
  const shape = b.op('Shape', [pooled]);
  const n = b.op('Gather', [shape, b.constant('zero', int64([], [0]))], { axis: attr.int(0) });
  const n1 = b.op('Unsqueeze', [n, b.constant('ax0', int64([1], [0]))]);
  const target = b.op('Concat', [n1, b.constant('minus1', int64([1], [-1]))], { axis: attr.int(0) });
  const flat = b.op('Reshape', [pooled, target], {}, { outputs: ['flat'] });
  const logits = b.op('Gemm', [flat, b.constant('fc', weights([10, 16])), b.constant('fcb', weights([10]))], {
    transB: attr.int(1),
  });
  b.op('Softmax', [logits], { axis: attr.int(-1) }, { outputs: ['probs'] });
  b.output('probs', 'float32');
  return b.graph;
}

test('a conv net with a symbolic batch: shapes propagate and match ONNX Runtime', async () => {
  const graph = convNet();
  const shapes = inferShapes(graph, { useDeclared: false });
  assert.deepEqual(shapes.get('c1'), { dtype: 'float32', shape: ['batch', 16, 16, 16] });
  assert.deepEqual(shapes.get('pool')?.shape, ['batch', 16, 8, 8]);
  assert.deepEqual(shapes.get('gap')?.shape, ['batch', 16, 1, 1]);
  assert.deepEqual(shapes.get('flat')?.shape, ['batch', 16]);
  assert.deepEqual(shapes.get('probs'), { dtype: 'float32', shape: ['batch', 10] });
  // The same names, evaluated by ONNX Runtime at batch 3.
  graph.outputs = ['c1', 'pool', 'flat', 'probs'].map((name) => ({ name }));
  const session = await Session.create(createModel(graph, 13), { threads: 1 });
  const out = await session.run({ x: weights([3, 3, 32, 32]) });
  for (const name of ['c1', 'pool', 'flat', 'probs']) {
    const want = shapes.get(name)!.shape.map((d) => (d === 'batch' ? 3 : d));
    assert.deepEqual(out[name]!.shape, want, name);
  }
  await session.release();
});

function infer(build: (b: GraphBuilder) => void): Map<string, { dtype: unknown; shape: Dim[] }> {
  const b = new GraphBuilder('g');
  build(b);
  return inferShapes(b.graph, { useDeclared: false });
}

test('tensor ops: Slice, Expand, Range, Transpose, MatMul, Squeeze/Unsqueeze forms, Split, Pad', () => {
  const s = infer((b) => {
    b.input('x', 'float32', ['n', 4, 6]);
    const i = (name: string, v: (number | bigint)[]) => b.constant(name, int64([v.length], v));
    b.op(
      'Slice',
      ['x', i('st', [1, -1]), i('en', [2n ** 63n - 1n, -7]), i('ax', [2, 1]), i('sp', [2, -1])],
      {},
      { outputs: ['sl'] },
    );
    b.op(
      'Slice',
      ['x'],
      { starts: attr.ints([0]), ends: attr.ints([2 ** 63]), axes: attr.ints([0]) },
      { outputs: ['sl0'] },
    );
    const shp = b.op('ConstantOfShape', [i('cs', [2])], { value: attr.tensor(int64([1], [5])) });
    b.op('Expand', [b.constant('one', float32([3, 1], [1, 2, 3])), shp], {}, { outputs: ['ex'] });
    b.op(
      'Range',
      [
        b.constant('r0', float32([], [0])),
        b.constant('r1', float32([], [2.5])),
        b.constant('r2', float32([], [0.5])),
      ],
      {},
      { outputs: ['rg'] },
    );
    b.op('Transpose', ['x'], { perm: attr.ints([2, 0, 1]) }, { outputs: ['tr'] });
    b.input('m', 'float32', ['n', 1, 6, 5]);
    b.op('MatMul', ['m', b.constant('mw', weights([3, 5, 7]))], {}, { outputs: ['mm'] });
    b.op('MatMul', [b.constant('v', weights([6])), 'x'], {}, { outputs: ['mv'] });
    b.op('Unsqueeze', ['x'], { axes: attr.ints([0, -1]) }, { outputs: ['uq11'] });
    b.op('Unsqueeze', ['x', i('uqa', [1])], {}, { outputs: ['uq13'] });
    b.op('Squeeze', ['uq13', i('sqa', [1])], {}, { outputs: ['sq13'] });
    b.op('Squeeze', ['uq11'], { axes: attr.ints([0]) }, { outputs: ['sq11'] });
    b.node(
      'Split',
      ['x'],
      { axis: attr.int(2), num_outputs: attr.int(4) },
      { outputs: ['p0', 'p1', 'p2', 'p3'] },
    );
    b.node('Split', ['x', i('parts', [1, 3])], { axis: attr.int(1) }, { outputs: ['q0', 'q1'] });
    b.op('Pad', ['x', i('pads', [0, 1, 2, 0, 3, 4])], {}, { outputs: ['pd'] });
    b.op('Pad', ['x'], { pads: attr.ints([0, 0, 1, 0, 0, 1]) }, { outputs: ['pd2'] });
  });
  assert.deepEqual(s.get('sl')?.shape, ['n', 4, 3]);
  assert.deepEqual(s.get('sl0')?.shape, ['n', 4, 6]);
  assert.deepEqual(s.get('ex')?.shape, [3, 5]);
  assert.deepEqual(s.get('rg'), { dtype: 'float32', shape: [5] });
  assert.deepEqual(s.get('tr')?.shape, [6, 'n', 4]);
  assert.deepEqual(s.get('mm')?.shape, ['n', 3, 6, 7]);
  assert.deepEqual(s.get('mv')?.shape, ['n', 6]);
  assert.deepEqual(s.get('uq11')?.shape, [1, 'n', 4, 6, 1]);
  assert.deepEqual(s.get('sq13')?.shape, ['n', 4, 6]);
  assert.deepEqual(s.get('sq11')?.shape, ['n', 4, 6, 1]);
  assert.deepEqual(
    ['p0', 'p1', 'p2', 'p3'].map((p) => s.get(p)?.shape[2]),
    [2, 2, 2, 0],
  );
  assert.deepEqual(
    [s.get('q0')?.shape, s.get('q1')?.shape],
    [
      ['n', 1, 6],
      ['n', 3, 6],
    ],
  );
  assert.deepEqual(s.get('pd')?.shape, ['n', 8, 12]);
  assert.deepEqual(s.get('pd2')?.shape, ['n', 4, 8]);
});

test('reductions, Gather, Where/Equal/Cast dtypes, norms, pools, ConvTranspose, unknown ops', () => {
  const s = infer((b) => {
    b.input('x', 'float32', ['n', 8, 10, 10]);
    b.op('ReduceMean', ['x'], { axes: attr.ints([2, 3]), keepdims: attr.int(0) }, { outputs: ['rm'] });
    b.op('ReduceSum', ['x', b.constant('rax', int64([1], [1]))], {}, { outputs: ['rs'] });
    b.op('ReduceMax', ['x'], {}, { outputs: ['rx'] });
    b.op(
      'Gather',
      ['x', b.constant('gi', int64([2, 3], [0, 1, 2, 3, 4, 5]))],
      { axis: attr.int(1) },
      { outputs: ['ga'] },
    );
    const eq = b.op('Equal', ['x', b.constant('z', float32([1], [0]))], {}, { outputs: ['eq'] });
    b.op('Where', [eq, 'x', b.constant('w1', float32([10], new Array(10).fill(1)))], {}, { outputs: ['wh'] });
    b.op('Cast', ['x'], { to: attr.int(7) }, { outputs: ['ca'] });
    b.node(
      'LayerNormalization',
      ['x', b.constant('g', weights([10])), b.constant('bb', weights([10]))],
      { axis: attr.int(-1) },
      { outputs: ['ln', 'lm', 'ls'] },
    );
    b.op(
      'AveragePool',
      ['x'],
      { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), auto_pad: attr.string('VALID') },
      { outputs: ['ap'] },
    );
    b.op(
      'ConvTranspose',
      ['x', b.constant('ct', weights([8, 4, 3, 3]))],
      {
        strides: attr.ints([2, 2]),
        pads: attr.ints([1, 1, 1, 1]),
        output_padding: attr.ints([1, 1]),
        group: attr.int(2),
      },
      { outputs: ['ctr'] },
    );
    b.op('Flatten', ['x'], { axis: attr.int(2) }, { outputs: ['fl'] });
    const mystery = b.op('Mystery', ['x'], {}, { domain: 'com.example', outputs: ['my'] });
    b.op('Relu', [mystery], {}, { outputs: ['after'] });
    b.op('Shape', ['x'], { start: attr.int(1), end: attr.int(-1) }, { outputs: ['sh'] });
    b.op('Identity', [b.constant('str', tensor('string', [2], ['a', 'b']))], {}, { outputs: ['id'] });
  });
  assert.deepEqual(s.get('rm')?.shape, ['n', 8]);
  assert.deepEqual(s.get('rs')?.shape, ['n', 1, 10, 10]);
  assert.deepEqual(s.get('rx')?.shape, [1, 1, 1, 1]);
  assert.deepEqual(s.get('ga')?.shape, ['n', 2, 3, 10, 10]);
  assert.deepEqual(s.get('eq'), { dtype: 'bool', shape: ['n', 8, 10, 10] });
  assert.deepEqual(s.get('wh'), { dtype: 'float32', shape: ['n', 8, 10, 10] });
  assert.equal(s.get('ca')?.dtype, 'int64');
  assert.deepEqual(
    [s.get('ln')?.shape, s.get('lm')?.shape],
    [
      ['n', 8, 10, 10],
      ['n', 8, 10, 1],
    ],
  );
  assert.deepEqual(s.get('ap')?.shape, ['n', 8, 4, 4]);
  assert.deepEqual(s.get('ctr')?.shape, ['n', 8, 20, 20]);
  assert.deepEqual(s.get('fl')?.shape, [null, 100]);
  assert.equal(s.has('my'), false);
  assert.equal(s.has('after'), false);
  assert.deepEqual(s.get('sh'), { dtype: 'int64', shape: [2] });
  assert.deepEqual(s.get('id'), { dtype: 'string', shape: [2] });
});

test('declared value_info fills in what inference cannot know', () => {
  const b = new GraphBuilder('g');
  b.input('x', 'float32', ['n', 3]);
  b.op('Mystery', ['x'], {}, { domain: 'com.example', outputs: ['y'] });
  b.output('y', 'float32', ['n', 5]);
  assert.deepEqual(inferShapes(b.graph).get('y'), { dtype: 'float32', shape: ['n', 5] });
  assert.equal(inferShapes(b.graph, { useDeclared: false }).has('y'), false);
});
