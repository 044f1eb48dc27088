/**
 * QDQ insertion (S8S8): every activation a quantized node reads or writes gets one QuantizeLinear →
 * DequantizeLinear pair right after it is produced; constant weights become int8 initializers (symmetric, per
 * output channel by default) read through a DequantizeLinear, biases int32 at input_scale × weight_scale.
 * The graph stays a float graph that any ONNX runtime runs; ONNX Runtime's CPU provider fuses each
 * DQ → op → Q group into one integer kernel.
 */
import { GraftError } from '../errors.js';
import { attr, GraphBuilder } from '../onnx/builder.js';
import { cloneModel, opsetOf, type Graph, type Model, type Node } from '../onnx/ir.js';
import { consumers, producers, removeDeadNodes, topoSort } from '../onnx/topo.js';
import type { Tensor } from '../tensor.js';
import type { Range } from './calibrate.js';
import { isZeroFloorActivation, policyOf } from './ops.js';
import {
  activationParams,
  quantize,
  quantizeBias,
  weightParams,
  type QuantParams,
  type QuantType,
} from './params.js';

export interface QdqOptions {
  /** Weights per output channel (default true); false: one scale per weight tensor. */
  perChannel?: boolean;
  /** Node names left in float. */
  exclude?: ReadonlySet<string>;
  /** Activation type (default 'uint8': see README, "int8"). Weights are always int8. */
  activationType?: QuantType;
}

export interface QdqResult {
  model: Model;
  /** Nodes that run on quantized inputs, by name. */
  quantizedNodes: string[];
  /** Activation tensors with a QuantizeLinear/DequantizeLinear pair, with their parameters. */
  activations: Map<string, QuantParams>;
  /** The DequantizeLinear output standing for each quantized activation. */
  dequantized: Map<string, string>;
  /** Relu/Clip nodes absorbed into the quantization of their input's producer. */
  removedActivations: string[];
}

/** The nodes graft would quantize in `g` (before exclusions): those with a policy. */
export function quantizableNodes(g: Graph): Node[] {
  return g.nodes.filter((n) => policyOf(n) !== undefined);
}

/** Every float activation tensor a QDQ pass may need a range for, including Relu/Clip outputs. */
export function tensorsToCalibrate(g: Graph): string[] {
  const names = new Set<string>();
  for (const n of g.nodes) {
    const p = policyOf(n);
    if (p) {
      for (const i of p.activations(n, g)) names.add(n.inputs[i]!);
      for (const o of n.outputs) if (o) names.add(o);
    } else if (isZeroFloorActivation(n, g)) {
      names.add(n.outputs[0]!);
    }
  }
  for (const k of g.initializers.keys()) names.delete(k);
  names.delete('');
  return [...names];
}

const scalarF = (v: number): Tensor => ({ dtype: 'float32', shape: [], data: Float32Array.of(v) });

function zeroPointTensor(p: QuantParams, shape: number[]): Tensor {
  return p.type === 'int8'
    ? { dtype: 'int8', shape, data: Int8Array.from(p.zeroPoint) }
    : { dtype: 'uint8', shape, data: Uint8Array.from(p.zeroPoint) };
}

/** Drops Relu/Clip(0, …) nodes whose input comes only from a node that will be quantized. */
function absorbActivations(g: Graph, quantized: ReadonlySet<Node>, exclude: ReadonlySet<string>): string[] {
  const users = consumers(g);
  const prod = producers(g);
  const outputs = new Set(g.outputs.map((o) => o.name));
  const removed: Node[] = [];
  for (const act of g.nodes) {
    if (exclude.has(act.name) || !isZeroFloorActivation(act, g)) continue;
    const x = act.inputs[0]!;
    const p = prod.get(x);
    if (!p || !quantized.has(p) || policyOf(p)?.sharesInputParams) continue;
    if ((users.get(x) ?? []).length !== 1 || outputs.has(x)) continue;
    p.outputs = p.outputs.map((o) => (o === x ? act.outputs[0]! : o));
    removed.push(act);
  }
  const dead = new Set(removed);
  g.nodes = g.nodes.filter((n) => !dead.has(n));
  return removed.map((n) => n.name);
}

/** Inserts QDQ pairs and quantized weights into a copy of a prepared model, using calibrated `ranges`. */
export function insertQdq(
  model: Model,
  ranges: ReadonlyMap<string, Range>,
  options: QdqOptions = {},
): QdqResult {
  if (opsetOf(model) < 13)
    throw new GraftError(
      'BAD_OPTION',
      `per-axis QuantizeLinear needs ONNX opset 13 or later; this model uses opset ${opsetOf(model)}`,
    );
  const perChannel = options.perChannel ?? true;
  const exclude = options.exclude ?? new Set<string>();
  const m = cloneModel(model);
  const g = m.graph;
  const chosen = new Set(g.nodes.filter((n) => policyOf(n) && !exclude.has(n.name)));
  const removedActivations = absorbActivations(g, chosen, exclude);
  const order = topoSort(g);
  const inits = g.initializers;

  // Activation parameters, in graph order so that shared-parameter ops see their input's first.
  const params = new Map<string, QuantParams>();
  const paramsFor = (t: string): QuantParams | undefined => {
    if (params.has(t)) return params.get(t);
    const r = ranges.get(t);
    if (!r || inits.has(t)) return undefined;
    const p = activationParams(r.min, r.max, options.activationType ?? 'uint8');
    params.set(t, p);
    return p;
  };
  const quantizedNodes: string[] = [];
  for (const n of order) {
    if (!chosen.has(n)) continue;
    const policy = policyOf(n)!;
    const ins = policy.activations(n, g).map((i) => n.inputs[i]!);
    const inParams = ins.map(paramsFor);
    if (ins.length === 0 || inParams.some((p) => !p)) continue;
    quantizedNodes.push(n.name);
    for (const o of n.outputs) {
      if (!o) continue;
      if (policy.sharesInputParams) params.set(o, inParams[0]!);
      else paramsFor(o);
    }
  }

  const b = new GraphBuilder(g);
  const users = consumers(g);
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const newNodes: Node[] = [];
  /** The float tensor behind each DequantizeLinear output. */
  const sourceOf = new Map<string, string>();
  for (const [t, p] of params) {
    const scale = b.initializer(b.unique(`${t}_scale`), scalarF(p.scale[0]!));
    const zp = b.initializer(b.unique(`${t}_zero_point`), zeroPointTensor(p, []));
    const isOutput = graphOutputs.has(t);
    // A graph output keeps its name on a DequantizeLinear; its producer writes a renamed float tensor.
    const source = isOutput ? b.unique(`${t}_float`) : t;
    if (isOutput) for (const n of g.nodes) n.outputs = n.outputs.map((o) => (o === t ? source : o));
    const q = b.unique(`${t}_quantized`);
    newNodes.push({
      name: b.unique(`${t}_QuantizeLinear`),
      opType: 'QuantizeLinear',
      domain: '',
      inputs: [source, scale, zp],
      outputs: [q],
      attrs: {},
    });
    const dequantize = (dq: string): void => {
      newNodes.push({
        name: b.unique(`${t}_DequantizeLinear`),
        opType: 'DequantizeLinear',
        domain: '',
        inputs: [q, scale, zp],
        outputs: [dq],
        attrs: {},
      });
      sourceOf.set(dq, t);
    };
    if (isOutput) dequantize(t);
    // One DequantizeLinear per reader: ONNX Runtime fuses a DQ → op → Q group only when the DQ feeds that op
    // alone.
    for (const c of users.get(t) ?? []) {
      const dq = b.unique(`${t}_dequantized`);
      c.inputs = c.inputs.map((i) => (i === t ? dq : i));
      dequantize(dq);
    }
  }

  // Weights and biases of the quantized nodes.
  const quantizedWeights = new Map<string, { dq: string; params: QuantParams }>();
  const names = new Set(quantizedNodes);
  for (const n of order) {
    if (!names.has(n.name)) continue;
    const slot = policyOf(n)!.weight?.(n, g);
    if (!slot) continue;
    const wName = n.inputs[slot.input]!;
    const w = inits.get(wName);
    if (!w || w.dtype !== 'float32') continue;
    let qw = quantizedWeights.get(wName);
    if (!qw) {
      const data = w.data as Float32Array;
      const wp = weightParams(data, w.shape, perChannel ? slot.axis : undefined);
      const channels = wp.scale.length;
      const shape = perChannel ? [channels] : [];
      const qName = b.initializer(b.unique(`${wName}_quantized`), {
        dtype: 'int8',
        shape: [...w.shape],
        data: quantize(data, w.shape, wp, true) as Int8Array,
      });
      const sName = b.initializer(b.unique(`${wName}_scale`), { dtype: 'float32', shape, data: wp.scale });
      const zName = b.initializer(b.unique(`${wName}_zero_point`), zeroPointTensor(wp, shape));
      const dq = b.unique(`${wName}_dequantized`);
      newNodes.push({
        name: b.unique(`${wName}_DequantizeLinear`),
        opType: 'DequantizeLinear',
        domain: '',
        inputs: [qName, sName, zName],
        outputs: [dq],
        attrs: perChannel ? { axis: attr.int(slot.axis) } : {},
      });
      qw = { dq, params: wp };
      quantizedWeights.set(wName, qw);
    }
    n.inputs[slot.input] = qw.dq;
    const biasName = slot.bias !== undefined ? n.inputs[slot.bias] : undefined;
    const bias = biasName ? inits.get(biasName) : undefined;
    const inParams = params.get(sourceOf.get(n.inputs[0]!) ?? '');
    if (!bias || bias.dtype !== 'float32' || !inParams || !biasName) continue;
    const channels = (bias.data as Float32Array).length;
    if (qw.params.scale.length !== 1 && qw.params.scale.length !== channels) continue;
    const qb = quantizeBias(bias.data as Float32Array, inParams.scale[0]!, qw.params.scale);
    const bq = b.initializer(b.unique(`${biasName}_quantized`), {
      dtype: 'int32',
      shape: [...bias.shape],
      data: qb.data,
    });
    const bs = b.initializer(b.unique(`${biasName}_scale`), {
      dtype: 'float32',
      shape: [channels],
      data: qb.scale,
    });
    const bz = b.initializer(b.unique(`${biasName}_zero_point`), {
      dtype: 'int32',
      shape: [channels],
      data: new Int32Array(channels),
    });
    const bdq = b.unique(`${biasName}_dequantized`);
    newNodes.push({
      name: b.unique(`${biasName}_DequantizeLinear`),
      opType: 'DequantizeLinear',
      domain: '',
      inputs: [bq, bs, bz],
      outputs: [bdq],
      attrs: { axis: attr.int(0) },
    });
    n.inputs[slot.bias!] = bdq;
  }
  g.nodes.push(...newNodes);
  g.nodes = topoSort(g);
  removeDeadNodes(g);
  const dequantized = new Map<string, string>();
  for (const [dq, t] of sourceOf) if (!dequantized.has(t)) dequantized.set(t, dq);
  return { model: m, quantizedNodes, activations: params, dequantized, removedActivations };
}
