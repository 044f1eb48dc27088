/** The image stem (a Conv reading ≤ 4 input channels straight from the graph input) stays float unless told. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../../src/data/random.js';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel, type Model } from '../../src/onnx/ir.js';
import type { Feeds } from '../../src/quantize/calibrate.js';
import { imageStems, quantizeModel } from '../../src/quantize/quantize.js';
import { float32 } from '../../src/tensor.js';
import { isGraftError } from '../../src/errors.js';

function model(inChannels: number, group = 1): Model {
  const rng = mulberry32(4);
  const draw = (n: number) => Float32Array.from({ length: n }, () => rng() - 0.5);
  const g = new GraphBuilder('stem');
  g.input('x', 'float32', ['N', inChannels, 6, 6]);
  const w1 = g.constant('w1', float32([8, inChannels / group, 3, 3], draw((8 * inChannels * 9) / group)));
  g.node(
    'Conv',
    ['x', w1],
    { pads: attr.ints([1, 1, 1, 1]), group: attr.int(group) },
    { name: 'stem', outputs: ['h'] },
  );
  g.node('Relu', ['h'], {}, { name: 'relu', outputs: ['r'] });
  const w2 = g.constant('w2', float32([4, 8, 1, 1], draw(32)));
  g.node('Conv', ['r', w2], {}, { name: 'pw', outputs: ['y'] });
  g.output('y', 'float32', ['N', 4, 6, 6]);
  return createModel(g.graph, 17);
}

const batches = (c: number) =>
  async function* (): AsyncIterable<Feeds> {
    const rng = mulberry32(5);
    for (let i = 0; i < 2; i++)
      yield { x: float32([2, c, 6, 6], Float32Array.from({ length: 72 * c }, rng)) };
  };

/** Whether a Conv's weight is dequantized from an integer initializer (it was quantized). */
function weightQuantized(m: Model, conv: string): boolean {
  const node = m.graph.nodes.find((n) => n.name === conv && n.opType === 'Conv')!;
  const producer = m.graph.nodes.find((n) => n.outputs.includes(node.inputs[1]!));
  return (
    producer?.opType === 'DequantizeLinear' && m.graph.initializers.get(producer.inputs[0]!)?.dtype === 'int8'
  );
}

test('a Conv on a 3-channel graph input is the stem; grouped, wider or deeper Convs are not', () => {
  assert.deepEqual(
    imageStems(model(3).graph).map((n) => n.name),
    ['stem'],
  );
  assert.deepEqual(imageStems(model(8).graph), []);
  assert.deepEqual(imageStems(model(4, 2).graph), []);
});

test('static quantization leaves the stem in float, says why, and quantizes it when floatStem is off', async () => {
  const on = await quantizeModel(model(3), batches(3));
  assert.deepEqual(
    on.report.excluded.map((e) => [e.node, e.opType]),
    [['stem', 'Conv']],
  );
  assert.match(on.report.excluded[0]!.reason, /image stem/);
  assert.equal(weightQuantized(on.model, 'stem'), false);
  assert.equal(weightQuantized(on.model, 'pw'), true);
  const off = await quantizeModel(model(3), batches(3), { floatStem: false });
  assert.deepEqual(off.report.excluded, []);
  assert.equal(weightQuantized(off.model, 'stem'), true);
  // dynamic quantization quantizes no Conv: asking to quantize the stem there is refused, not dropped
  await assert.rejects(
    quantizeModel(model(3), batches(3), { mode: 'dynamic', floatStem: false }),
    (e: unknown) => isGraftError(e, 'BAD_OPTION') && /--mode static/.test(e.message),
  );
});
