/**
 * Where fine-tuning starts: `unfreeze` ('all', 'last:N' blocks, or a tensor name) resolved to a cut tensor of a
 * backbone graph, and which of the suffix's initializers are trainable.
 */
import { GraftError } from '../../errors.js';
import type { Graph, Node } from '../../onnx/ir.js';

/** 'all' (from the input), 'none' (head only), 'last:N' (the last N blocks + what follows them), or a tensor. */
export type UnfreezeSpec = 'all' | 'none' | `last:${number}` | (string & {});

/** A named group of consecutive nodes: an inverted-residual block, a transformer layer… */
export interface Block {
  key: string;
  /** The tensor the block hands to what follows it. */
  output: string;
  nodes: Node[];
}

const BLOCK_PATTERNS: readonly RegExp[] = [
  /^(block_\d+)_/, // Keras MobileNetV2
  /^(expanded_conv)_/, // Keras MobileNetV2 block 0
  /(features\.\d+)[./]/, // torchvision (exported): features.N
  /(layers?\.\d+)[./]/, // torch transformer encoders: layers.N / layer.N
  /(expanded_conv_\d+)\//, // TF-slim MobileNetV2
];

/** The block a node belongs to, from its name; undefined for stem/head nodes. */
export function blockKeyOf(name: string): string | undefined {
  for (const re of BLOCK_PATTERNS) {
    const m = re.exec(name);
    if (m) return m[1];
  }
  return undefined;
}

/** Blocks in graph order (nodes must be topologically sorted, as imported graphs are). */
export function findBlocks(graph: Graph): Block[] {
  const blocks: Block[] = [];
  const byKey = new Map<string, Block>();
  for (const node of graph.nodes) {
    const key = blockKeyOf(node.name);
    if (!key) continue;
    let b = byKey.get(key);
    if (!b) {
      b = { key, output: '', nodes: [] };
      byKey.set(key, b);
      blocks.push(b);
    }
    b.nodes.push(node);
  }
  for (const b of blocks) {
    const inside = new Set(b.nodes.flatMap((n) => n.outputs));
    const usedOutside = new Set(
      graph.nodes.filter((n) => !b.nodes.includes(n)).flatMap((n) => n.inputs.filter((i) => inside.has(i))),
    );
    const outs = b.nodes.flatMap((n) => n.outputs).filter((o) => usedOutside.has(o));
    b.output = outs[outs.length - 1] ?? b.nodes[b.nodes.length - 1]!.outputs[0]!;
  }
  return blocks;
}

export interface ResolvedCut {
  /** Tensor the trainable suffix starts from; the graph input for 'all'; the feature tensor for 'none'. */
  cut: string;
  /** True when the cut is the backbone's image input (no frozen prefix). */
  fromInput: boolean;
  /** Human-readable description, e.g. 'last 3 blocks (block_14 … block_16) + the layers after them'. */
  description: string;
}

/** Every tensor `tensor` is computed from, itself included. */
function upstreamOf(graph: Graph, tensor: string): Set<string> {
  const producer = new Map<string, Node>();
  for (const node of graph.nodes) for (const out of node.outputs) producer.set(out, node);
  const seen = new Set<string>();
  const stack = [tensor];
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    for (const i of producer.get(t)?.inputs ?? []) if (i) stack.push(i);
  }
  return seen;
}

/** Resolves an unfreeze spec against a backbone (input → features). */
export function resolveCut(
  graph: Graph,
  inputName: string,
  featureTensor: string,
  spec: UnfreezeSpec,
): ResolvedCut {
  if (spec === 'all') return { cut: inputName, fromInput: true, description: 'all layers' };
  if (spec === 'none') return { cut: featureTensor, fromInput: false, description: 'head only' };
  const m = /^last:(\d+)$/.exec(spec);
  if (m) {
    const n = Number(m[1]);
    // Only the blocks the features depend on count: a cut at block_12_add makes `last:3` blocks 10-12.
    const upstream = upstreamOf(graph, featureTensor);
    const blocks = findBlocks(graph).filter((b) => upstream.has(b.output));
    if (!(n >= 1) || blocks.length === 0) {
      throw new GraftError('BAD_OPTION', `cannot unfreeze '${spec}': the model has ${blocks.length} blocks`, {
        unfreeze: spec,
      });
    }
    if (n >= blocks.length) return { cut: inputName, fromInput: true, description: 'all layers' };
    const first = blocks[blocks.length - n]!;
    const last = blocks[blocks.length - 1]!;
    return {
      cut: blocks[blocks.length - n - 1]!.output,
      fromInput: false,
      description: `last ${n} block(s) (${first.key} … ${last.key}) and the layers after them`,
    };
  }
  const exists = graph.nodes.some((n) => n.outputs.includes(spec));
  if (!exists) {
    throw new GraftError('BAD_OPTION', `unfreeze: the model has no tensor named '${spec}'`, { tensor: spec });
  }
  return { cut: spec, fromInput: false, description: `layers after ${spec}` };
}

/** Input positions of weights (not running statistics, shapes or clip bounds) per op type. */
const WEIGHT_SLOTS: Readonly<Record<string, readonly number[]>> = {
  Conv: [1, 2],
  ConvTranspose: [1, 2],
  BatchNormalization: [1, 2],
  Gemm: [0, 1, 2],
  MatMul: [0, 1],
  LayerNormalization: [1, 2],
  Add: [0, 1],
  Mul: [0, 1],
  Gather: [0],
  PRelu: [1],
};

/** BN running statistics (inputs 3 and 4 of BatchNormalization nodes), in node order. */
export function bnStatistics(graph: Graph): { mean: string; variance: string; node: Node }[] {
  return graph.nodes
    .filter((n) => n.opType === 'BatchNormalization')
    .map((node) => ({ mean: node.inputs[3]!, variance: node.inputs[4]!, node }));
}

/**
 * The float initializers of `graph` that are weights: conv kernels and biases, BN scale/bias, Gemm/MatMul
 * matrices, LayerNorm scale/bias, embeddings and (non-scalar) Add/Mul parameters. In graph order.
 */
export function trainableInitializers(graph: Graph): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const node of graph.nodes) {
    for (const slot of WEIGHT_SLOTS[node.opType] ?? []) {
      const name = node.inputs[slot];
      if (!name || seen.has(name)) continue;
      const t = graph.initializers.get(name);
      if (!t || t.dtype !== 'float32' || t.data.length <= 1) continue;
      seen.add(name);
      out.push(name);
    }
  }
  return out;
}
