/**
 * graft's native depthwise convolution (native/conv, run through SegmentedSession) against independent
 * references: the forward pass against ONNX Runtime's grouped Conv, dX and dW against finite differences and
 * against the pure-ONNX gradient graph (conv.ts) on the same data, and the adjoint identities
 * <dy, conv(x)> = <dX(dy), x> = <dW(x, dy), w> on the raw kernels.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildTrainingGraph } from '../../src/autodiff/index.js';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel, emptyGraph, type Attribute, type Node } from '../../src/onnx/ir.js';
import { resolveNativeDepthwise } from '../../src/autodiff/rules/depthwise-native.js';
import { convAddon, NATIVE_DOMAIN, runNativeNode } from '../../src/runtime/native-ops.js';
import { createRunner, SegmentedSession, stageSessionOptions } from '../../src/runtime/segmented-session.js';
import { Session } from '../../src/runtime/session.js';
import type { Tensor } from '../../src/tensor.js';
import { checkGradients, rng } from './fd.js';
import { channelsLastOutputs } from './native-depthwise-case.js';

const built = convAddon() !== undefined;
const skip = built ? false : 'the convolution addon is not built';

interface Geometry {
  name: string;
  x: [number, number, number, number];
  k: [number, number];
  strides: [number, number];
  pads: [number, number, number, number];
}

const geometries: Geometry[] = [
  { name: '3x3 stride 1 pad 1', x: [2, 5, 7, 9], k: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] },
  {
    name: '3x3 stride 2, Keras same (pad bottom/right)',
    x: [2, 4, 8, 10],
    k: [3, 3],
    strides: [2, 2],
    pads: [0, 0, 1, 1],
  },
  { name: '3x3 stride 2 pad 1, odd sizes', x: [1, 3, 9, 7], k: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
  { name: '5x5 stride 1 pad 2', x: [1, 3, 6, 6], k: [5, 5], strides: [1, 1], pads: [2, 2, 2, 2] },
  {
    name: '3x2 strides (2, 3), uneven pads',
    x: [2, 2, 7, 11],
    k: [3, 2],
    strides: [2, 3],
    pads: [2, 0, 1, 1],
  },
  {
    name: '3x3 stride 1 pad 1, 20 channels of 7x7 (channels-last path)',
    x: [2, 20, 7, 7],
    k: [3, 3],
    strides: [1, 1],
    pads: [1, 1, 1, 1],
  },
  {
    name: '3x3 stride 2, Keras same, 17 channels of 8x10 (channels-last path)',
    x: [2, 17, 8, 10],
    k: [3, 3],
    strides: [2, 2],
    pads: [0, 0, 1, 1],
  },
  {
    name: '3x3 unpadded, 40 columns (vector body + tail)',
    x: [1, 2, 5, 40],
    k: [3, 3],
    strides: [1, 1],
    pads: [0, 0, 0, 0],
  },
];

function random(shape: readonly number[], seed: number): Tensor {
  const u = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape: [...shape], data: Float32Array.from({ length: n }, () => 2 * u() - 1) };
}

function attrsOf(g: Geometry): Record<string, Attribute> {
  return { kernel_shape: attr.ints(g.k), strides: attr.ints(g.strides), pads: attr.ints(g.pads) };
}

function nativeNode(opType: string, g: Geometry, inputs: string[]): Node {
  return { name: opType, opType, domain: NATIVE_DOMAIN, inputs, outputs: ['out'], attrs: attrsOf(g) };
}

function dot(a: Tensor, b: Tensor): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += Number(a.data[i]) * Number(b.data[i]);
  return s;
}

for (const g of geometries) {
  test(`native depthwise ${g.name}: forward matches ONNX Runtime's grouped Conv`, { skip }, async () => {
    const c = g.x[1];
    const x = random(g.x, 1);
    const w = random([c, 1, ...g.k], 2);
    const bias = random([c], 3);
    const b = new GraphBuilder(emptyGraph());
    b.input('x', 'float32', g.x);
    b.input('w', 'float32', [c, 1, ...g.k]);
    b.input('bias', 'float32', [c]);
    b.output(b.op('Conv', ['x', 'w', 'bias'], { ...attrsOf(g), group: attr.int(c) }), 'float32');
    const s = await Session.create(createModel(b.graph), { threads: 1 });
    const want = Object.values(await s.run({ x, w, bias }))[0]!;
    await s.release();
    for (const threads of [1, 3]) {
      const [y] = runNativeNode(nativeNode('DepthwiseConv', g, ['x', 'w', 'bias']), [x, w, bias], threads);
      assert.deepEqual(y!.shape, want.shape);
      let err = 0;
      for (let i = 0; i < y!.data.length; i++)
        err = Math.max(err, Math.abs(Number(y!.data[i]) - Number(want.data[i])));
      assert.ok(err < 1e-5, `max abs error ${err}`);
    }
  });

  test(`native depthwise ${g.name}: gradients are the forward pass's adjoints`, { skip }, () => {
    const c = g.x[1];
    const x = random(g.x, 4);
    const w = random([c, 1, ...g.k], 5);
    const [y] = runNativeNode(nativeNode('DepthwiseConv', g, ['x', 'w']), [x, w], 2);
    const dy = random(y!.shape, 6);
    const [dx] = runNativeNode(nativeNode('DepthwiseConvGradInput', g, ['dy', 'w', 'x']), [dy, w, x], 2);
    const [dw] = runNativeNode(nativeNode('DepthwiseConvGradWeight', g, ['x', 'dy']), [x, dy], 2);
    assert.deepEqual(dx!.shape, x.shape);
    assert.deepEqual(dw!.shape, w.shape);
    // The convolution is bilinear in (x, w): <dy, y> = <dX(dy), x> = <dW(x, dy), w>.
    const ref = dot(dy, y!);
    assert.ok(Math.abs(dot(dx!, x) - ref) < 1e-4 * Math.max(1, Math.abs(ref)));
    assert.ok(Math.abs(dot(dw!, w) - ref) < 1e-4 * Math.max(1, Math.abs(ref)));
  });

  test(`native depthwise ${g.name}: dX, dW, dB match finite differences`, { skip }, async () => {
    const c = g.x[1];
    const r = await checkGradients({
      dtype: 'float32',
      params: { x: { shape: g.x }, w: { shape: [c, 1, ...g.k] }, bias: { shape: [c] } },
      build: (b) => b.op('Conv', ['x', 'w', 'bias'], { ...attrsOf(g), group: attr.int(c) }),
      training: { nativeDepthwise: true },
    });
    assert.ok(
      r.model.graph.nodes.some((n) => n.domain === NATIVE_DOMAIN && n.opType === 'DepthwiseConvGradWeight'),
    );
    assert.ok(r.maxError < 1e-2, `max rel error ${r.maxError}`);
  });
}

test(
  'native depthwise, channels-last path: plain and vector transposes give the same bits (GRAFT_CONV_ISA)',
  { skip },
  () => {
    const script = fileURLToPath(new URL('./native-depthwise-case.ts', import.meta.url));
    const run = (isa: string) =>
      JSON.parse(
        execFileSync(process.execPath, ['--import', 'tsx', script], {
          encoding: 'utf8',
          env: { ...process.env, GRAFT_CONV_ISA: isa },
        }),
      ) as ReturnType<typeof channelsLastOutputs>;
    const plain = run('scalar');
    assert.deepEqual(run(''), plain);
    assert.deepEqual(channelsLastOutputs(), plain);
    for (const values of Object.values(plain)) assert.ok(values.some((v) => v !== 0));
  },
);

/** expand 1x1 -> Clip(0, 6) -> depthwise 3x3 stride 2 (Keras same) -> Clip -> project 1x1 -> mean, and feeds. */
function mobileNetBlock(seed = 8) {
  const b = new GraphBuilder(emptyGraph());
  b.input('x', 'float32', ['N', 4, 9, 9]);
  const u = rng(7);
  const init = (name: string, shape: number[]) =>
    b.initializer(name, {
      dtype: 'float32',
      shape,
      data: Float32Array.from({ length: shape.reduce((a, c) => a * c, 1) }, () => u() - 0.5),
    });
  init('we', [12, 4, 1, 1]);
  init('wd', [12, 1, 3, 3]);
  init('bd', [12]);
  init('wp', [6, 12, 1, 1]);
  const six = b.constant('six', { dtype: 'float32', shape: [], data: Float32Array.of(6) });
  const zero = b.constant('zero', { dtype: 'float32', shape: [], data: Float32Array.of(0) });
  const e = b.op('Clip', [b.op('Conv', ['x', 'we']), zero, six]);
  const d = b.op('Conv', [e, 'wd', 'bd'], {
    group: attr.int(12),
    strides: attr.ints([2, 2]),
    pads: attr.ints([0, 0, 1, 1]),
  });
  const p = b.op('Conv', [b.op('Clip', [d, zero, six]), 'wp']);
  const loss = b.op('ReduceMean', [b.op('Mul', [p, p])], { keepdims: attr.int(0) });
  b.output(loss, 'float32', []);
  const model = createModel(b.graph);
  const params = ['we', 'wd', 'bd', 'wp'];
  const x = random([3, 4, 9, 9], seed);
  const feeds: Record<string, Tensor> = { x: { ...x, data: (x.data as Float32Array).map((v) => 4 * v) } };
  for (const name of params) feeds[name] = model.graph.initializers.get(name)!;
  return { model, params, loss, feeds };
}

test(
  'a MobileNetV2-style block trains to the same gradients natively and in pure ONNX',
  { skip },
  async () => {
    const { model, params, loss, feeds } = mobileNetBlock();
    const grads = async (nativeDepthwise: boolean) => {
      const tg = buildTrainingGraph(model, { params, loss, nativeDepthwise });
      const runner = await createRunner(tg.model, { threads: 2 });
      if (nativeDepthwise) {
        assert.ok(runner instanceof SegmentedSession);
        assert.deepEqual(runner.size, { sessions: 3, native: 3 });
      }
      const out = await runner.run(feeds);
      await runner.release();
      return params.map((name) => out[tg.gradients[name]!]!.data as Float32Array);
    };
    const [pure, native] = [await grads(false), await grads(true)];
    params.forEach((name, i) => {
      const a = pure[i]!;
      const n = native[i]!;
      let scale = 0;
      let err = 0;
      for (let j = 0; j < a.length; j++) {
        scale = Math.max(scale, Math.abs(a[j]!));
        err = Math.max(err, Math.abs(a[j]! - n[j]!));
      }
      assert.ok(scale > 0 && err <= 1e-5 * scale, `${name}: max abs difference ${err} at scale ${scale}`);
    });
  },
);

/** 16 channels: a 3x3 stride-1 depthwise Conv on 20x20 (w1), then a stride-2 one down to 10x10 (w2). */
function wideThenNarrow() {
  const b = new GraphBuilder(emptyGraph());
  b.input('x', 'float32', ['N', 16, 20, 20]);
  const u = rng(3);
  for (const name of ['w1', 'w2'])
    b.initializer(name, {
      dtype: 'float32',
      shape: [16, 1, 3, 3],
      data: Float32Array.from({ length: 144 }, () => u() - 0.5),
    });
  const same = { group: attr.int(16), pads: attr.ints([1, 1, 1, 1]) };
  const wide = b.op('Conv', ['x', 'w1'], same);
  const narrow = b.op('Conv', [wide, 'w2'], { ...same, strides: attr.ints([2, 2]) });
  const loss = b.op('ReduceMean', [b.op('Mul', [narrow, narrow])], { keepdims: attr.int(0) });
  b.output(loss, 'float32', []);
  return { model: createModel(b.graph), loss };
}

test("'small-planes' lowers only the depthwise Convs whose output rows are narrower than 16", () => {
  const { model, loss } = wideThenNarrow();
  const nativeOps = (nativeDepthwise: boolean | 'small-planes') =>
    buildTrainingGraph(model, { params: ['w1', 'w2'], loss, nativeDepthwise })
      .model.graph.nodes.filter((n) => n.domain === NATIVE_DOMAIN)
      .map((n) => `${n.opType}(${n.inputs.filter((v) => v === 'w1' || v === 'w2').join()})`)
      .sort();
  assert.deepEqual(nativeOps(false), []);
  assert.deepEqual(nativeOps('small-planes'), [
    'DepthwiseConv(w2)',
    'DepthwiseConvGradInput(w2)',
    'DepthwiseConvGradWeight()',
  ]);
  // all: w1's Conv and weight gradient as well (its input gradient is not needed: x is data)
  assert.equal(nativeOps(true).length, 5);
});

test("'auto' runs natively only when every trained depthwise Conv has small planes", () => {
  const { model } = wideThenNarrow();
  assert.equal(resolveNativeDepthwise('auto', model, ['w2']), 'small-planes');
  assert.equal(resolveNativeDepthwise('auto', model, ['w1', 'w2']), false, 'w1 has 20-wide rows');
  assert.equal(resolveNativeDepthwise('auto', model, []), false, 'nothing depthwise is trained');
  for (const mode of [true, false, 'small-planes'] as const)
    assert.equal(resolveNativeDepthwise(mode, model, ['w1', 'w2']), mode);
});

test("a segmented graph's ONNX Runtime stages run without the arena where freed memory is kept", () => {
  const kept = stageSessionOptions({ threads: 2 }, true);
  assert.equal(kept.memoryArena, false);
  assert.equal(kept.threads, 2);
  assert.equal(stageSessionOptions({ threads: 2 }, false).memoryArena, true);
  assert.equal(stageSessionOptions({ memoryArena: true }, true).memoryArena, true);
  assert.equal(stageSessionOptions({ memoryArena: false }, false).memoryArena, false);
});

test(
  'a segmented session reuses its native arrays from run to run without mixing runs up',
  { skip },
  async () => {
    const { model, params, loss, feeds } = mobileNetBlock(8);
    const other = mobileNetBlock(9).feeds;
    const tg = buildTrainingGraph(model, { params, loss, nativeDepthwise: true });
    const grads = Object.values(tg.gradients);
    const runner = await createRunner(tg.model, { threads: 2 });
    try {
      const first = await runner.run(feeds);
      const kept = grads.map((name) => Array.from(first[name]!.data as Float32Array));
      const second = await runner.run(other);
      grads.forEach((name, i) =>
        assert.deepEqual(Array.from(first[name]!.data as Float32Array), kept[i], name),
      );
      assert.notDeepEqual(Array.from(second[grads[0]!]!.data as Float32Array), kept[0]);
      const third = await runner.run(feeds);
      grads.forEach((name, i) =>
        assert.deepEqual(Array.from(third[name]!.data as Float32Array), kept[i], name),
      );
    } finally {
      await runner.release();
    }
  },
);
