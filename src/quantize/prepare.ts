/**
 * Pre-processing before calibration, as ONNX Runtime's quant_pre_process does it: inference BatchNormalization
 * folded into its Conv (src/autodiff/fold-bn.ts), the constant arithmetic that leaves folded into plain
 * initializers (evaluated once by ONNX Runtime itself), and zero Pads merged into the Conv that reads them, so
 * that every Conv's weight is one initializer and its input one activation: the shape QDQ fusion needs. graft
 * also moves an average pool after the pointwise Conv that reads it (exact; ONNX Runtime's tool does not).
 */
import { foldFrozenBatchNorm } from '../autodiff/fold-bn.js';
import { attr } from '../onnx/builder.js';
import { cloneModel, createModel, getAttr, opsetOf, type Graph, type Model, type Node } from '../onnx/ir.js';
import { consumers, removeDeadNodes } from '../onnx/topo.js';
import { Session } from '../runtime/session.js';
import type { Tensor } from '../tensor.js';

/** Nodes whose inputs are all initializers (transitively), outside control flow. */
function constantNodes(g: Graph): Node[] {
  const known = new Set(g.initializers.keys());
  for (const v of g.inputs) known.delete(v.name);
  const out: Node[] = [];
  for (const n of g.nodes) {
    const hasSubgraph = Object.values(n.attrs).some((a) => a.type === 'graph' || a.type === 'graphs');
    // Constant nodes too (torch.onnx.export writes Clip's bounds as such; as initializers the Clip of a ReLU6 is
    // recognised and absorbed, as ONNX Runtime's own constant folding lets its quantizer do), but no other node
    // without inputs (RandomNormal and the like are not constants).
    if (hasSubgraph || n.domain !== '' || (n.inputs.length === 0 && n.opType !== 'Constant')) continue;
    if (n.inputs.every((i) => i === '' || known.has(i))) {
      out.push(n);
      for (const o of n.outputs) if (o) known.add(o);
    }
  }
  return out;
}

/** Replaces constant subgraphs by initializers holding their values, computed by ONNX Runtime. */
export async function foldConstants(model: Model): Promise<number> {
  const g = model.graph;
  const nodes = constantNodes(g);
  if (nodes.length === 0) return 0;
  const used = consumers(g);
  const folded = new Set(nodes);
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  // Only values read by a non-constant node (or the graph's outputs) need to exist afterwards.
  const wanted = nodes.flatMap((n) =>
    n.outputs.filter((o) => o && (graphOutputs.has(o) || (used.get(o) ?? []).some((c) => !folded.has(c)))),
  );
  const sub: Graph = {
    name: 'constants',
    nodes,
    inputs: [],
    outputs: wanted.map((name) => ({ name })),
    initializers: new Map(g.initializers),
    valueInfo: new Map(),
  };
  const m = { ...createModel(removeDeadNodes(sub), opsetOf(model)), opsetImports: model.opsetImports };
  const session = await Session.create(m, { threads: 1, validate: false });
  let values: Record<string, Tensor>;
  try {
    values = await session.run({}, wanted);
  } finally {
    await session.release();
  }
  g.nodes = g.nodes.filter((n) => !folded.has(n));
  for (const name of wanted) g.initializers.set(name, values[name]!);
  removeDeadNodes(g);
  return nodes.length;
}

/** Merges `Pad(x, zeros on N and C, constant 0) → Conv` into the Conv's own pads; returns how many. */
export function mergePadsIntoConv(g: Graph): number {
  const users = consumers(g);
  const producer = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const outputs = new Set(g.outputs.map((o) => o.name));
  const dead = new Set<Node>();
  for (const conv of g.nodes) {
    if (conv.opType !== 'Conv' || conv.domain !== '') continue;
    const pad = producer.get(conv.inputs[0]!);
    if (!pad || pad.opType !== 'Pad' || pad.domain !== '') continue;
    const padded = pad.outputs[0]!;
    if ((users.get(padded) ?? []).length !== 1 || outputs.has(padded)) continue;
    const mode = getAttr(pad, 'mode', 'string') ?? 'constant';
    const autoPad = getAttr(conv, 'auto_pad', 'string') ?? 'NOTSET';
    if (mode !== 'constant' || autoPad !== 'NOTSET' || pad.inputs.length > 3) continue;
    const padsTensor = pad.inputs[1] ? g.initializers.get(pad.inputs[1]) : undefined;
    const pads = padsTensor
      ? Array.from(padsTensor.data as BigInt64Array, Number)
      : getAttr(pad, 'pads', 'ints');
    const value = pad.inputs[2] ? g.initializers.get(pad.inputs[2]) : undefined;
    const constant = value
      ? Number((value.data as Float32Array)[0] ?? 0)
      : (getAttr(pad, 'value', 'float') ?? 0);
    if (!pads || constant !== 0 || pads.some((p) => p < 0)) continue;
    const rank = pads.length / 2;
    if (pads[0] !== 0 || pads[1] !== 0 || pads[rank] !== 0 || pads[rank + 1] !== 0) continue;
    const spatial = rank - 2;
    const own = getAttr(conv, 'pads', 'ints') ?? new Array<number>(2 * spatial).fill(0);
    const merged = own.map((p, i) => p + (i < spatial ? pads[2 + i]! : pads[rank + 2 + i - spatial]!));
    conv.attrs = { ...conv.attrs, pads: attr.ints(merged) };
    conv.inputs = [pad.inputs[0]!, ...conv.inputs.slice(1)];
    dead.add(pad);
  }
  if (dead.size > 0) {
    g.nodes = g.nodes.filter((n) => !dead.has(n));
    removeDeadNodes(g);
  }
  return dead.size;
}

/**
 * Moves an AveragePool after the 1×1 Conv that alone reads it: Conv(AvgPool(x)) = AvgPool(Conv(x)) exactly for a
 * pointwise (1×1, stride 1, unpadded, ungrouped) Conv, since both are linear and an average of W·x + b is W·avg(x) + b
 * — provided padded positions are not counted in the average (count_include_pad 0, ONNX's default, or no padding),
 * where they would average in a bias the original never saw. The pool then runs on the Conv's output channels
 * instead of its input's (InceptionV3's pool branches: 4–11× fewer), which matters most in int8, where ONNX
 * Runtime's QLinearAveragePool is several times slower than float pooling. Returns how many moved.
 */
export function poolAfterPointwiseConv(g: Graph, keep: ReadonlySet<string> = new Set()): number {
  const users = consumers(g);
  const outputs = new Set([...g.outputs.map((o) => o.name), ...keep]);
  let moved = 0;
  for (const pool of [...g.nodes]) {
    if (pool.opType !== 'AveragePool' || pool.domain !== '') continue;
    const pooled = pool.outputs[0]!;
    const readers = users.get(pooled) ?? [];
    const conv = readers[0];
    if (readers.length !== 1 || outputs.has(pooled) || !conv || conv.opType !== 'Conv' || conv.domain !== '')
      continue;
    if (conv.inputs[0] !== pooled || conv.outputs.length !== 1) continue;
    const padded = (getAttr(pool, 'pads', 'ints') ?? []).some((p) => p !== 0);
    const autoPad = getAttr(pool, 'auto_pad', 'string') ?? 'NOTSET';
    if ((padded || autoPad !== 'NOTSET') && (getAttr(pool, 'count_include_pad', 'int') ?? 0) !== 0) continue;
    const w = g.initializers.get(conv.inputs[1]!);
    const ones = (name: string) => (getAttr(conv, name, 'ints') ?? []).every((v) => v === 1);
    const pointwise =
      w !== undefined &&
      w.shape.length === 4 &&
      w.shape[2] === 1 &&
      w.shape[3] === 1 &&
      (getAttr(conv, 'group', 'int') ?? 1) === 1 &&
      ones('strides') &&
      ones('dilations') &&
      (getAttr(conv, 'pads', 'ints') ?? []).every((p) => p === 0) &&
      (getAttr(conv, 'auto_pad', 'string') ?? 'NOTSET') === 'NOTSET';
    if (!pointwise) continue;
    const out = conv.outputs[0]!;
    const mid = `${out}/before_pool`;
    conv.inputs = [pool.inputs[0]!, ...conv.inputs.slice(1)];
    conv.outputs = [mid];
    pool.inputs = [mid];
    pool.outputs = [out];
    g.valueInfo.delete(pooled);
    // keep the nodes in topological order: the pool now follows the Conv
    g.nodes.splice(g.nodes.indexOf(pool), 1);
    g.nodes.splice(g.nodes.indexOf(conv) + 1, 0, pool);
    moved++;
  }
  return moved;
}

export interface PrepareReport {
  foldedBatchNorms: number;
  foldedConstants: number;
  mergedPads: number;
  /** AveragePools moved after the pointwise Conv that reads them (poolAfterPointwiseConv). */
  movedPools: number;
}

/** A copy of `model` ready to calibrate and quantize (the same function, fewer and plainer nodes). */
export async function prepareForQuantization(model: Model): Promise<{ model: Model; report: PrepareReport }> {
  const m = cloneModel(model);
  const keep = new Set(m.graph.outputs.map((o) => o.name));
  const foldedBatchNorms = foldFrozenBatchNorm(m.graph, opsetOf(m), new Set(), keep);
  const foldedConstants = await foldConstants(m);
  const mergedPads = mergePadsIntoConv(m.graph);
  const movedPools = poolAfterPointwiseConv(m.graph, keep);
  return { model: m, report: { foldedBatchNorms, foldedConstants, mergedPads, movedPools } };
}
