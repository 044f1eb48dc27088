/** A zero Pad of the spatial axes folded into the Conv it feeds before differentiating (src/autodiff/fold-pad.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldZeroPadIntoConv } from '../../src/autodiff/fold-pad.js';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { getAttr } from '../../src/onnx/ir.js';
import { checkGradients, makeTensor } from './fd.js';

interface PadCase {
  /** Pad's pads over [N, C, H, W]: [begins..., ends...]. */
  pads: readonly number[];
  group: number;
  /** The Conv's own pads [top, left, bottom, right]. */
  convPads?: readonly number[];
  mode?: string;
  value?: number;
  /** Another reader of the padded tensor. */
  tap?: boolean;
}

/** x → Tanh → Pad → Conv 3×3 stride 2 (weights w, group) [→ also ReduceMean of the padded tensor]. */
function build(b: GraphBuilder, c: PadCase): string[] {
  const activated = b.op('Tanh', ['x']);
  const inputs = [activated, b.constant('pads', makeTensor('int64', [8], [...c.pads]))];
  if (c.value !== undefined) inputs.push(b.constant('value', makeTensor('float32', [], [c.value])));
  const padded = b.op('Pad', inputs, c.mode ? { mode: attr.string(c.mode) } : {});
  const y = b.op('Conv', [padded, 'w'], {
    strides: attr.ints([2, 2]),
    group: attr.int(c.group),
    ...(c.convPads ? { pads: attr.ints([...c.convPads]) } : {}),
  });
  return c.tap ? [y, b.op('ReduceMean', [padded])] : [y];
}

const params = (group: number) => ({
  x: { shape: [2, 4, 7, 8] },
  w: { shape: [4, 4 / group, 3, 3] },
});

for (const [what, c] of [
  ["Keras' stride-2 padding (bottom and right)", { pads: [0, 0, 0, 0, 0, 0, 1, 1], group: 1 }],
  [
    'depthwise, on top of the Conv own pads',
    { pads: [0, 0, 1, 2, 0, 0, 1, 0], group: 4, convPads: [1, 0, 0, 1] },
  ],
] as const)
  test(`folds ${what}: no Pad left, gradients match finite differences and the unfolded graph`, async () => {
    const folded = await checkGradients({
      dtype: 'float32',
      params: params(c.group),
      build: (b) => build(b, c),
    });
    assert.ok(!folded.model.graph.nodes.some((n) => n.opType === 'Pad'));
    const conv = folded.model.graph.nodes.find((n) => n.opType === 'Conv' && n.inputs[1] === 'w')!;
    const own = 'convPads' in c ? c.convPads : [0, 0, 0, 0];
    const added = [c.pads[2]!, c.pads[3]!, c.pads[6]!, c.pads[7]!];
    assert.deepEqual(
      getAttr(conv, 'pads', 'ints'),
      own.map((p, i) => p + added[i]!),
    );
    const plain = await checkGradients({
      dtype: 'float32',
      params: params(c.group),
      build: (b) => build(b, c),
      training: { foldPad: false },
    });
    assert.ok(plain.model.graph.nodes.some((n) => n.opType === 'Pad'));
    assert.ok(folded.maxError < 1e-2 && plain.maxError < 1e-2);
  });

for (const [what, c] of [
  ['reflect padding', { pads: [0, 0, 1, 1, 0, 0, 1, 1], group: 1, mode: 'reflect' }],
  ['a non-zero constant', { pads: [0, 0, 0, 0, 0, 0, 1, 1], group: 1, value: 0.5 }],
  ['padding of the channel axis', { pads: [0, 1, 0, 0, 0, 0, 1, 1], group: 1 }],
  ['a padded tensor with another reader', { pads: [0, 0, 0, 0, 0, 0, 1, 1], group: 1, tap: true }],
] as const)
  test(`leaves ${what} alone`, async () => {
    const b = new GraphBuilder('g');
    b.input('x', 'float32', [2, 4, 7, 8]);
    b.input(
      'w',
      'float32',
      [c.pads[1] ? 5 : 4, 4, 3, 3].slice(0, 1).concat([4 + c.pads[1]! + c.pads[5]!, 3, 3]),
    );
    for (const o of build(b, c)) b.output(o, 'float32');
    assert.equal(foldZeroPadIntoConv(b.graph, 17, new Set()), 0);
    assert.ok(b.graph.nodes.some((n) => n.opType === 'Pad'));
  });

test('a non-zero constant Pad keeps its gradient through the unfolded path', async () => {
  const c = { pads: [0, 0, 0, 0, 0, 0, 1, 1], group: 1, value: 0.5 };
  const r = await checkGradients({ dtype: 'float32', params: params(1), build: (b) => build(b, c) });
  assert.ok(r.model.graph.nodes.some((n) => n.opType === 'Pad'));
  assert.ok(r.maxError < 1e-2);
});

test("folded into a depthwise Conv that graft's native kernels run: the same gradients", async () => {
  const c = { pads: [0, 0, 0, 0, 0, 0, 1, 1], group: 4 };
  const r = await checkGradients({
    dtype: 'float32',
    params: params(4),
    build: (b) => build(b, c),
    training: { nativeDepthwise: true },
  });
  assert.ok(!r.model.graph.nodes.some((n) => n.opType === 'Pad'));
  assert.ok(r.model.graph.nodes.some((n) => n.domain !== '' && n.opType.startsWith('Depthwise')));
  assert.ok(r.maxError < 1e-2);
});
