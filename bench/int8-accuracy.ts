/**
 * Where does int8 lose accuracy? Held-out accuracy of one model directory (made by `graft train`/`graft demo`)
 * under quantization variants that each isolate one suspect, on one calibration and the same held-out split as
 * `graft quantize`:
 *   int8            every quantizable node (what `graft quantize` starts from)
 *   weights only    int8 weights (per channel) dequantized in place, activations float
 *   head float      the head's nodes (after the pooled features) left in float
 *   first/last half only the first (last) half of the quantizable nodes, in graph order, in int8
 *   depthwise float every grouped Conv in float
 *   calib = test    calibrated on the held-out digits themselves (is the calibration data the problem?)
 *   percentile      99.99th percentile ranges
 * and the five nodes adding the most relative output error (the guard's ranking).
 *
 *   node --import tsx bench/int8-accuracy.ts <model-dir> [--calibration-examples 256] [--eval-examples 1000]
 */
import { parseArgs } from 'node:util';
import { cloneModel, getAttr, type Model, type Node } from '../src/onnx/ir.js';
import { calibrate, type Range } from '../src/quantize/calibrate.js';
import { loadDirData } from '../src/quantize/dir-data.js';
import { dequantize, quantize, weightParams } from '../src/quantize/params.js';
import { prepareForQuantization } from '../src/quantize/prepare.js';
import { insertQdq, quantizableNodes, tensorsToCalibrate } from '../src/quantize/qdq.js';
import { activationErrors, rankNodes } from '../src/quantize/sensitivity.js';
import { policyOf } from '../src/quantize/ops.js';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'calibration-examples': { type: 'string', default: '256' },
    'eval-examples': { type: 'string', default: '1000' },
  },
});
const dir = positionals[0];
if (!dir) throw new Error('usage: bench/int8-accuracy.ts <model-dir>');
const d = await loadDirData(dir, {
  calibrationExamples: Number(args['calibration-examples']),
  evalExamples: Number(args['eval-examples']),
});
const { model: prepared } = await prepareForQuantization(d.model);
const g = prepared.graph;
const tensors = tensorsToCalibrate(g);
const ranges = await calibrate(prepared, tensors, d.calibration, { session: d.session });
const nodes = quantizableNodes(g).map((n) => n.name);
const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
const fp32 = await d.accuracy(prepared);
console.log(`fp32                 ${pct(fp32)}  (${d.evaluation!.labels.length} held-out examples)`);

const report = async (name: string, m: Model): Promise<void> => {
  const a = await d.accuracy(m);
  console.log(`${name.padEnd(20)} ${pct(a)}  drop ${((fp32 - a) * 100).toFixed(1)} points`);
};
const qdq = (r: ReadonlyMap<string, Range>, exclude: Iterable<string> = []): Model =>
  insertQdq(prepared, r, { exclude: new Set(exclude) }).model;

await report('int8', qdq(ranges));

// Weights only: every quantizable node's constant weight replaced by its int8 round trip.
const weightsOnly = cloneModel(prepared);
for (const n of weightsOnly.graph.nodes) {
  const slot = policyOf(n)?.weight?.(n, weightsOnly.graph);
  const w = slot ? weightsOnly.graph.initializers.get(n.inputs[slot.input]!) : undefined;
  if (!slot || !w || w.dtype !== 'float32') continue;
  const p = weightParams(w.data as Float32Array, w.shape, slot.axis);
  const q = quantize(w.data as Float32Array, w.shape, p, true);
  weightsOnly.graph.initializers.set(n.inputs[slot.input]!, {
    ...w,
    data: dequantize(q, w.shape, p.scale, p.zeroPoint, slot.axis),
  });
}
await report('weights only', weightsOnly);

const headStart = g.nodes.findIndex((n) => n.name.startsWith('head/'));
const isHead = (n: Node): boolean => headStart >= 0 && g.nodes.indexOf(n) >= headStart;
await report(
  'head float',
  qdq(
    ranges,
    g.nodes.filter(isHead).map((n) => n.name),
  ),
);
const half = Math.floor(nodes.length / 2);
await report('first half only', qdq(ranges, nodes.slice(half)));
await report('last half only', qdq(ranges, nodes.slice(0, half)));
const depthwise = g.nodes.filter((n) => n.opType === 'Conv' && (getAttr(n, 'group', 'int') ?? 1) > 1);
await report(
  'depthwise float',
  qdq(
    ranges,
    depthwise.map((n) => n.name),
  ),
);
await report(
  'calib = test',
  qdq(await calibrate(prepared, tensors, d.evaluation!.batches, { session: d.session })),
);
await report(
  'percentile 99.99',
  qdq(
    await calibrate(prepared, tensors, d.calibration, {
      method: 'percentile',
      percentile: 99.99,
      session: d.session,
    }),
  ),
);

const full = insertQdq(prepared, ranges);
const ranked = rankNodes(
  prepared,
  full,
  await activationErrors(prepared, full, d.calibration, { session: d.session }),
);
console.log('nodes adding the most relative output error:');
for (const r of ranked.slice(0, 5))
  console.log(
    `  ${r.node} (${r.opType}): +${pct(r.addedError)}, ${pct(r.outputError)} at its output, range [${ranges.get(g.nodes.find((n) => n.name === r.node)!.outputs[0]!)?.min.toFixed(2)}, ${ranges.get(g.nodes.find((n) => n.name === r.node)!.outputs[0]!)?.max.toFixed(2)}]`,
  );
