/**
 * Dynamic quantization (ONNX Runtime's quantize_dynamic, its advice for transformers): every MatMul with a
 * constant 2-D weight becomes
 *     x ─ DynamicQuantizeLinear ─ (x_q uint8, x_scale, x_zero_point)
 *     MatMulInteger(x_q, W_q int8, x_zero_point, 0) ─ Cast(float) ─ Mul(x_scale · W_scale)
 * with W quantized symmetrically per output column (or per tensor), and the activation's scale computed from
 * its own range on every run, so no calibration is needed. ONNX Runtime's CPU provider fuses MatMulInteger → Cast →
 * Mul into MatMulIntegerToFloat (com.microsoft; with the DynamicQuantizeLinear too into DynamicQuantizeMatMul
 * where it has one reader); any ONNX runtime runs the plain graph. The MatMul's output keeps its
 * name, so the float and quantized models compare tensor by tensor.
 */
import { attr, GraphBuilder } from '../onnx/builder.js';
import { cloneModel, type Graph, type Model, type Node } from '../onnx/ir.js';
import { topoSort } from '../onnx/topo.js';
import { quantize, weightParams } from './params.js';

export interface DynamicOptions {
  /** Weights per output column (default true); false: one scale per weight tensor. */
  perChannel?: boolean;
  /** Node names left in float. */
  exclude?: ReadonlySet<string>;
}

export interface DynamicResult {
  model: Model;
  /** MatMul nodes now computed in integers, by name. */
  quantizedNodes: string[];
}

const ONNX_FLOAT = 1;

/** MatMuls graft quantizes dynamically: a float activation times a constant float 2-D weight. */
export function dynamicNodes(g: Graph): Node[] {
  return g.nodes.filter((n) => {
    if (n.opType !== 'MatMul' || (n.domain !== '' && n.domain !== 'ai.onnx')) return false;
    const w = g.initializers.get(n.inputs[1] ?? '');
    return !!w && w.dtype === 'float32' && w.shape.length === 2 && !g.initializers.has(n.inputs[0]!);
  });
}

export function insertDynamic(model: Model, options: DynamicOptions = {}): DynamicResult {
  const perChannel = options.perChannel ?? true;
  const exclude = options.exclude ?? new Set<string>();
  const m = cloneModel(model);
  const g = m.graph;
  const b = new GraphBuilder(g);
  const targets = dynamicNodes(g).filter((n) => !exclude.has(n.name));
  const replaced = new Set(targets);
  /** One DynamicQuantizeLinear per activation, shared by the MatMuls reading it (Q, K and V). */
  const quantizedInputs = new Map<string, string[]>();
  /** One int8 copy per weight. */
  const weights = new Map<string, { q: string; zp: string; scale: string }>();
  const added: Node[] = [];
  const push = (opType: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}): void => {
    added.push({ name: b.unique(`${outputs[0]}_${opType}`), opType, domain: '', inputs, outputs, attrs });
  };
  for (const n of targets) {
    const x = n.inputs[0]!;
    let xq = quantizedInputs.get(x);
    if (!xq) {
      xq = [b.unique(`${x}_quantized`), b.unique(`${x}_scale`), b.unique(`${x}_zero_point`)];
      push('DynamicQuantizeLinear', [x], xq);
      quantizedInputs.set(x, xq);
    }
    const wName = n.inputs[1]!;
    let w = weights.get(wName);
    if (!w) {
      const t = g.initializers.get(wName)!;
      const p = weightParams(t.data as Float32Array, t.shape, perChannel ? 1 : undefined);
      const columns = p.scale.length;
      w = {
        q: b.constant(`${wName}_quantized`, {
          dtype: 'int8',
          shape: [...t.shape],
          data: quantize(t.data as Float32Array, t.shape, p, true) as Int8Array,
        }),
        zp: b.constant(`${wName}_zero_point`, {
          dtype: 'int8',
          shape: perChannel ? [columns] : [],
          data: new Int8Array(columns),
        }),
        scale: b.constant(`${wName}_scale`, {
          dtype: 'float32',
          shape: perChannel ? [columns] : [],
          data: p.scale,
        }),
      };
      weights.set(wName, w);
    }
    const y = n.outputs[0]!;
    const int32 = b.unique(`${y}_int32`);
    const float = b.unique(`${y}_unscaled`);
    const scale = b.unique(`${y}_scale`);
    push('MatMulInteger', [xq[0]!, w.q, xq[2]!, w.zp], [int32]);
    push('Cast', [int32], [float], { to: attr.int(ONNX_FLOAT) });
    push('Mul', [xq[1]!, w.scale], [scale]);
    push('Mul', [float, scale], [y]);
  }
  g.nodes = g.nodes.filter((n) => !replaced.has(n));
  g.nodes.push(...added);
  g.nodes = topoSort(g);
  for (const name of new Set(targets.map((n) => n.inputs[1]!)))
    if (!g.nodes.some((n) => n.inputs.includes(name))) g.initializers.delete(name);
  return { model: m, quantizedNodes: targets.map((n) => n.name) };
}
