/** A model at a glance: inputs, outputs, parameter count, op histogram, candidate feature tensors. */
import type { Dim, Model } from './ir.js';
import { inferShapes } from './shape-inference.js';
import { topoSort } from './topo.js';

export interface TensorSummary {
  name: string;
  dtype?: string;
  shape?: Dim[];
}

export interface FeatureCandidate extends TensorSummary {
  /** Why it is a candidate: a pooled vector before the classifier, or a block output. */
  reason: string;
}

export interface ModelSummary {
  inputs: TensorSummary[];
  outputs: TensorSummary[];
  parameters: number;
  ops: Record<string, number>;
  opset: number;
  candidates: FeatureCandidate[];
}

const POOLED = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'Flatten', 'ReduceMean', 'Squeeze']);
const BLOCK = new Set(['Add', 'Concat']);

export function summarizeModel(model: Model): ModelSummary {
  const g = model.graph;
  const shapes = inferShapes(g);
  const info = (name: string): TensorSummary => {
    const s = shapes.get(name);
    return { name, dtype: s?.dtype, shape: s?.shape };
  };
  let parameters = 0;
  for (const t of g.initializers.values())
    if (t.dtype === 'float32' || t.dtype === 'float16') parameters += t.data.length;
  const ops: Record<string, number> = {};
  for (const n of g.nodes) ops[n.opType] = (ops[n.opType] ?? 0) + 1;

  const candidates: FeatureCandidate[] = [];
  const order = topoSort(g);
  const lastMatMul = order.findLastIndex((n) => n.opType === 'Gemm' || n.opType === 'MatMul');
  for (const [i, n] of order.entries()) {
    const out = n.outputs[0]!;
    const s = shapes.get(out)?.shape;
    if (POOLED.has(n.opType) && s?.length === 2 && i < lastMatMul) {
      candidates.push({ ...info(out), reason: `pooled ${n.opType} output before the classifier` });
    } else if (BLOCK.has(n.opType) && s?.length === 4 && g.initializers.size > 0) {
      candidates.push({ ...info(out), reason: `block output (${n.opType})` });
    }
  }
  return {
    inputs: g.inputs
      .filter((v) => !g.initializers.has(v.name))
      .map((v) => ({ name: v.name, dtype: v.dtype, shape: v.shape })),
    outputs: g.outputs.map((v) => info(v.name)),
    parameters,
    ops,
    opset: model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 1,
    candidates,
  };
}
