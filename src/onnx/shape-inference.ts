/**
 * Static shape inference over graft's IR for the ops graft's models use. Symbolic dims ('batch') propagate;
 * the contents of small integer tensors (Shape → Gather → Concat → Reshape chains that exporters emit) are
 * folded so computed shapes resolve. Unknown ops give unknown outputs; nothing here throws on a valid graph.
 */
import type { DType } from '../tensor.js';
import { opsetOf, type Dim, type Graph, type Model, type Node } from './ir.js';
import type { InferContext, ShapeRule, TypeInfo } from './shapes/common.js';
import { dataRules, tensorInfo } from './shapes/data.js';
import { elementwiseRules } from './shapes/elementwise.js';
import { layoutRules } from './shapes/layout.js';
import { nnRules } from './shapes/nn.js';
import { topoSort } from './topo.js';

export type { TypeInfo } from './shapes/common.js';

export interface InferredType {
  /** Undefined when the element type could not be inferred. */
  dtype: DType | undefined;
  /** Each dim is a number, a symbol propagated from the inputs, or null (unknown). */
  shape: Dim[];
}

export interface InferShapesOptions {
  /** Default-domain opset (default 17); only consulted where an op's form is ambiguous. */
  opset?: number;
  /** Fall back to the graph's declared value_info/output types where inference gives nothing (default true). */
  useDeclared?: boolean;
}

const RULES: Record<string, ShapeRule> = { ...elementwiseRules, ...nnRules, ...layoutRules, ...dataRules };

/** The op types with a shape rule. */
export const SHAPE_INFERENCE_OPS: ReadonlySet<string> = new Set(Object.keys(RULES));

function sanitize(info: TypeInfo | undefined): TypeInfo | undefined {
  if (!info) return undefined;
  const shape = info.shape?.map((d): Dim =>
    typeof d === 'number' && !(Number.isInteger(d) && d >= 0) ? null : d,
  );
  return { ...info, shape };
}

function ordered(graph: Graph): Node[] {
  try {
    return topoSort(graph);
  } catch {
    return graph.nodes;
  }
}

/** Everything known about each value, including folded contents of small tensors. */
export function inferTypes(graph: Graph, options: InferShapesOptions = {}): Map<string, TypeInfo> {
  const infos = new Map<string, TypeInfo>();
  for (const v of graph.inputs)
    infos.set(v.name, { dtype: v.dtype, shape: v.shape ? [...v.shape] : undefined });
  for (const [name, t] of graph.initializers) infos.set(name, tensorInfo(t));
  const ctx: InferContext = {
    info: (name) => (name ? infos.get(name) : undefined),
    opset: options.opset ?? 17,
  };
  const declared = new Map([...graph.valueInfo, ...graph.outputs.map((v) => [v.name, v] as const)]);
  const useDeclared = options.useDeclared ?? true;
  for (const node of ordered(graph)) {
    const rule = node.domain === '' || node.domain === 'ai.onnx' ? RULES[node.opType] : undefined;
    let outs: (TypeInfo | undefined)[] = [];
    try {
      outs = rule ? rule(node, ctx) : [];
    } catch {
      outs = [];
    }
    node.outputs.forEach((name, i) => {
      if (!name) return;
      let info = sanitize(outs[i]);
      const decl = useDeclared ? declared.get(name) : undefined;
      if (decl && !info?.shape && decl.shape)
        info = { dtype: info?.dtype ?? decl.dtype, shape: [...decl.shape] };
      if (decl && info && !info.dtype && decl.dtype) info = { ...info, dtype: decl.dtype };
      if (info) infos.set(name, info);
    });
  }
  return infos;
}

/**
 * Dtype and shape of the graph's inputs, initializers and every node output whose rank can be inferred.
 * Values with unknown rank are absent from the map.
 */
export function inferShapes(graph: Graph, options: InferShapesOptions = {}): Map<string, InferredType> {
  const out = new Map<string, InferredType>();
  for (const [name, info] of inferTypes(graph, options)) {
    if (info.shape) out.set(name, { dtype: info.dtype, shape: info.shape });
  }
  return out;
}

/** inferShapes for a whole model, using its opset. */
export function inferModelShapes(model: Model, options: InferShapesOptions = {}): Map<string, InferredType> {
  return inferShapes(model.graph, { opset: opsetOf(model), ...options });
}
