/** buildTrainingGraph: forward + loss + reverse-mode gradients as one ONNX graph for ONNX Runtime. */
import type { NativeDepthwise } from './types.js';
import { GraftError } from '../errors.js';
import { GraphBuilder } from '../onnx/builder.js';
import { cloneModel, opsetOf, type Model, type Node } from '../onnx/ir.js';
import { removeDeadNodes } from '../onnx/topo.js';
import { constantValues, Emitter, type FloatDType } from './emitter.js';
import { foldFrozenBatchNorm } from './fold-bn.js';
import { foldZeroPadIntoConv } from './fold-pad.js';
import { fusedRules, parseFused } from './fused.js';
import { findGeluPatterns } from './gelu-pattern.js';
import { gradientPath } from './reachability.js';
import { geluGradient } from './rules/activations.js';
import { gradientRules } from './rules/index.js';
import { ShapeEnv } from './shapes.js';
import type { RuleContext } from './types.js';

export interface TrainingGraphOptions {
  /** Initializer names to differentiate; they become graph inputs of the training graph. */
  params: readonly string[];
  /** Name of a scalar float tensor already in the graph. */
  loss: string;
  /** Values kept as outputs besides the loss and gradients (e.g. logits). */
  extraOutputs?: readonly string[];
  /** Default true: non-trainable weights stay initializers (faster in ORT); false: float ones become inputs. */
  frozenAsInitializers?: boolean;
  /**
   * Default true: use fused gradients for graft's own losses (softmax cross-entropy) and for the exact GELU's
   * five-node chain (gelu-pattern.ts) instead of the generic rules.
   */
  fused?: boolean;
  /**
   * Default true: fold inference-mode BatchNormalization (constant running statistics) into the Conv feeding
   * it before differentiating (fold-bn.ts) — same function and params, far fewer activation-sized passes.
   */
  foldBatchNorm?: boolean;
  /**
   * Default true: fold a zero Pad of the spatial axes into the Conv it feeds (fold-pad.ts) — same function, and the
   * padded copy of an activation is no longer kept from the forward pass to the backward.
   */
  foldPad?: boolean;
  /**
   * Default false: run depthwise 2-D Convs whose weight is trained as graft's native ops (domain graft.native,
   * rules/depthwise-native.ts) — forward, dX and dW. The graph then runs only in a SegmentedSession
   * (src/runtime/segmented-session.ts), which TrainableGraph picks by itself.
   */
  nativeDepthwise?: NativeDepthwise;
}

export interface TrainingGraph {
  /** Forward + backward; inputs = data inputs + params; outputs = loss, gradients, extras. */
  model: Model;
  loss: string;
  /** Param name -> gradient output name. */
  gradients: Readonly<Record<string, string>>;
  params: readonly string[];
}

const FLOAT_DTYPES = new Set(['float32', 'float64']);

export function buildTrainingGraph(model: Model, options: TrainingGraphOptions): TrainingGraph {
  const m = cloneModel(model);
  const g = m.graph;
  const params = [...options.params];
  if (new Set(params).size !== params.length) throw new GraftError('BAD_OPTION', 'params has duplicates');
  const inputNames = new Set(g.inputs.map((v) => v.name));
  for (const p of params) {
    const t = g.initializers.get(p);
    const dt = t?.dtype ?? g.inputs.find((v) => v.name === p)?.dtype;
    if (!t && !inputNames.has(p)) {
      throw new GraftError('BAD_OPTION', `param '${p}' is not an initializer of the graph`, { param: p });
    }
    if (!dt || !FLOAT_DTYPES.has(dt)) {
      throw new GraftError('BAD_OPTION', `param '${p}' must be float32 or float64, got ${dt}`, { param: p });
    }
  }
  const keep = new Set([options.loss, ...(options.extraOutputs ?? [])]);
  if (options.foldBatchNorm !== false) foldFrozenBatchNorm(g, opsetOf(m), new Set(params), keep);
  if (options.foldPad !== false) foldZeroPadIntoConv(g, opsetOf(m), keep);
  const shapes = new ShapeEnv(g, opsetOf(m));
  const forwardInitializers = new Set(g.initializers.keys());
  const produced = new Set(g.nodes.flatMap((n) => n.outputs));
  for (const name of [options.loss, ...(options.extraOutputs ?? [])]) {
    if (!produced.has(name) && !inputNames.has(name) && !g.initializers.has(name)) {
      throw new GraftError('BAD_OPTION', `the graph has no tensor named '${name}'`, { tensor: name });
    }
  }
  const lossShape = shapes.shape(options.loss);
  if (lossShape && lossShape.some((d) => d !== 1)) {
    throw new GraftError(
      'SHAPE_MISMATCH',
      `loss '${options.loss}' must be a scalar, has shape [${lossShape}]`,
    );
  }
  const dtype = (shapes.dtype(params[0] ?? '') ?? 'float32') as FloatDType;
  const b = new GraphBuilder(g);
  const e = new Emitter(b, opsetOf(m), dtype, shapes);
  const path = gradientPath(g, params, options.loss);
  const gelus = findGeluPatterns(g, new Set(params));

  const contributions = new Map<string, string[]>();
  const add = (value: string, grad: string): void => {
    const list = contributions.get(value);
    if (list) list.push(grad);
    else contributions.set(value, [grad]);
  };
  const total = (value: string): string | undefined => {
    const list = contributions.get(value);
    if (!list || list.length === 0) return undefined;
    if (list.length > 1) list.splice(0, list.length, e.op('Sum', list));
    return list[0];
  };

  const lossDtype = (shapes.dtype(options.loss) ?? dtype) as FloatDType;
  if (path.onPath.has(options.loss)) {
    const one = e.scalar(1, lossDtype);
    add(options.loss, lossShape?.length === 0 ? one : e.op('Expand', [one, e.shapeOf(options.loss)]));
  }

  for (const node of path.nodes) {
    const grads = node.outputs.map((o) => (o && path.onPath.has(o) ? total(o) : undefined));
    if (grads.every((x) => x === undefined)) continue;
    const needs = (i: number): boolean => !!node.inputs[i] && path.onPath.has(node.inputs[i]!);
    const geluInput = gelus.get(node);
    if (geluInput !== undefined && options.fused !== false) {
      // the chain's inner values get no gradient, so the generic rules never read them
      if (path.onPath.has(geluInput)) add(geluInput, geluGradient(e, geluInput, grads[0]!));
      continue;
    }
    const fused = options.fused === false ? undefined : parseFused(node);
    if (fused && fusedRules[fused.kind] && path.onPath.has(fused.values.logits ?? '')) {
      const out = fusedRules[fused.kind]!(e, grads[0]!, fused.values);
      for (const [value, grad] of Object.entries(out)) if (path.onPath.has(value)) add(value, grad);
      continue;
    }
    const rule = node.domain === '' || node.domain === 'ai.onnx' ? gradientRules[node.opType] : undefined;
    if (!rule) {
      throw new GraftError(
        'UNSUPPORTED_OP',
        `no gradient rule for op ${describe(node)} on the path from the params to the loss`,
        { node: node.name, opType: node.opType },
      );
    }
    const ctx: RuleContext = {
      node,
      grads,
      e,
      needs,
      output: (i) => ensureOutput(b, node, i),
      constant: (i) => (node.inputs[i] ? constantValues(g, node.inputs[i]!) : undefined),
      nativeDepthwise: options.nativeDepthwise ?? false,
    };
    const results = rule(ctx);
    node.inputs.forEach((input, i) => {
      if (!needs(i)) return;
      const r = results[i];
      if (!r) {
        throw new GraftError(
          'UNSUPPORTED_OP',
          `${describe(node)} has no gradient wrt its input ${i} ('${input}')`,
          {
            node: node.name,
            opType: node.opType,
          },
        );
      }
      add(input, r);
    });
  }

  const gradients: Record<string, string> = {};
  const gradOutputs = params.map((p) => {
    const grad = total(p) ?? e.zerosLike(p);
    const name = b.unique(`${p}_grad`);
    b.node('Identity', [grad], {}, { name: `grad_out_${p}`, outputs: [name] });
    gradients[p] = name;
    const info = shapes.shape(p);
    return { name, dtype, ...(info ? { shape: [...info] } : {}) };
  });

  for (const p of params) {
    const t = g.initializers.get(p);
    if (!t) continue;
    g.initializers.delete(p);
    g.inputs.push({ name: p, dtype: t.dtype, shape: [...t.shape] });
  }
  if (options.frozenAsInitializers === false) {
    for (const [name, t] of [...g.initializers]) {
      if (!FLOAT_DTYPES.has(t.dtype) || !forwardInitializers.has(name) || inputNames.has(name)) continue;
      g.initializers.delete(name);
      g.inputs.push({ name, dtype: t.dtype, shape: [...t.shape] });
    }
  }
  const outputInfo = (name: string): { name: string; dtype?: typeof dtype } => {
    const dt = shapes.dtype(name);
    return dt ? { name, dtype: dt as FloatDType } : { name };
  };
  g.outputs = [
    outputInfo(options.loss),
    ...gradOutputs,
    ...(options.extraOutputs ?? []).filter((x) => x !== options.loss).map(outputInfo),
  ];
  removeDeadNodes(g);
  return { model: m, loss: options.loss, gradients, params };
}

function describe(node: Node): string {
  return `${node.domain ? `${node.domain}.` : ''}${node.opType} (node '${node.name}')`;
}

/** The name of output i of a node, adding an output name if the forward graph omitted it. */
function ensureOutput(b: GraphBuilder, node: Node, i: number): string {
  while (node.outputs.length <= i) node.outputs.push('');
  if (!node.outputs[i]) node.outputs[i] = b.unique(`${node.name || node.opType}_out${i}`);
  return node.outputs[i]!;
}
