/** Graph surgery: extract a subgraph, cut at a tensor, append a head, rename values. */
import { GraftError } from '../errors.js';
import { cloneGraph, type Graph, type Node, type ValueInfo } from './ir.js';
import { outerScopeInputs, producers, removeDeadNodes } from './topo.js';

function valueInfoFor(graph: Graph, name: string): ValueInfo {
  const known =
    graph.inputs.find((v) => v.name === name) ??
    graph.outputs.find((v) => v.name === name) ??
    graph.valueInfo.get(name);
  return known ? { ...known, name } : { name, dtype: 'float32' };
}

function assertProduced(graph: Graph, name: string): void {
  const exists =
    graph.inputs.some((v) => v.name === name) ||
    graph.initializers.has(name) ||
    graph.nodes.some((n) => n.outputs.includes(name));
  if (!exists) {
    throw new GraftError('BAD_INPUT', `the graph has no tensor named '${name}'`, { tensor: name });
  }
}

/**
 * The subgraph computing `outputs` from `inputs`: nodes between them, with the named tensors as the new graph
 * inputs. Original graph inputs that are still needed stay inputs. `infos` supplies types for new boundaries.
 */
export function extract(
  graph: Graph,
  inputs: readonly string[],
  outputs: readonly string[],
  infos: ReadonlyMap<string, ValueInfo> = new Map(),
): Graph {
  for (const n of [...inputs, ...outputs]) assertProduced(graph, n);
  const prod = producers(graph);
  const boundary = new Set(inputs);
  const keep = new Set<Node>();
  const needed = new Set<string>();
  const stack = [...outputs];
  while (stack.length) {
    const name = stack.pop()!;
    if (needed.has(name)) continue;
    needed.add(name);
    if (boundary.has(name)) continue;
    const p = prod.get(name);
    if (p && !keep.has(p)) {
      keep.add(p);
      for (const i of [...p.inputs, ...outerScopeInputs(p)]) if (i) stack.push(i);
    }
  }
  const g = cloneGraph(graph);
  g.nodes = g.nodes.filter((_, i) => keep.has(graph.nodes[i]!));
  const newInputs = inputs.map((n) => infos.get(n) ?? valueInfoFor(graph, n));
  const keptOriginal = graph.inputs.filter((v) => needed.has(v.name) && !boundary.has(v.name));
  g.inputs = [...newInputs, ...keptOriginal];
  g.outputs = outputs.map((n) => infos.get(n) ?? valueInfoFor(graph, n));
  for (const n of inputs) g.initializers.delete(n);
  return removeDeadNodes(g);
}

export interface CutResult {
  /** Original inputs → tensor. */
  prefix: Graph;
  /** Tensor → original outputs. */
  suffix: Graph;
}

/** Splits a graph at one tensor into a prefix (inputs → tensor) and a suffix (tensor → outputs). */
export function cut(graph: Graph, tensor: string, info?: ValueInfo): CutResult {
  const infos = new Map(info ? [[tensor, info]] : []);
  const prefix = extract(
    graph,
    graph.inputs.filter((v) => !graph.initializers.has(v.name)).map((v) => v.name),
    [tensor],
    infos,
  );
  const suffix = extract(
    graph,
    [tensor],
    graph.outputs.map((o) => o.name),
    infos,
  );
  return { prefix, suffix };
}

/** Renames a value everywhere it appears (inputs, outputs, initializers, node inputs/outputs, value info). */
export function renameValue(graph: Graph, from: string, to: string): Graph {
  if (from === to) return graph;
  const r = (n: string): string => (n === from ? to : n);
  for (const n of graph.nodes) {
    n.inputs = n.inputs.map(r);
    n.outputs = n.outputs.map(r);
  }
  for (const v of [...graph.inputs, ...graph.outputs]) v.name = r(v.name);
  const init = graph.initializers.get(from);
  if (init) {
    graph.initializers.delete(from);
    graph.initializers.set(to, init);
  }
  const vi = graph.valueInfo.get(from);
  if (vi) {
    graph.valueInfo.delete(from);
    graph.valueInfo.set(to, { ...vi, name: to });
  }
  return graph;
}

export interface AppendOptions {
  /** Prefix for the head's node, value and initializer names (default 'head/'), avoiding collisions. */
  namePrefix?: string;
  /** Keep the head's output names unprefixed (when the base graph does not use them). */
  keepOutputNames?: boolean;
}

/**
 * Attaches `head` after tensor `at` of `base`: the head's first input is fed by `at`, the merged graph's
 * outputs are the head's outputs. Other head inputs stay graph inputs.
 */
export function append(base: Graph, head: Graph, at: string, options: AppendOptions = {}): Graph {
  assertProduced(base, at);
  const prefix = options.namePrefix ?? 'head/';
  const headIn = head.inputs.filter((v) => !head.initializers.has(v.name));
  if (headIn.length === 0) throw new GraftError('BAD_INPUT', 'the head graph has no input to attach');
  const joinName = headIn[0]!.name;
  const h = cloneGraph(head);
  const taken = new Set<string>([...base.initializers.keys(), ...base.inputs.map((v) => v.name)]);
  for (const n of base.nodes) for (const o of n.outputs) taken.add(o);
  const kept = new Set(
    options.keepOutputNames ? h.outputs.map((o) => o.name).filter((n) => !taken.has(n)) : [],
  );
  const rename = (n: string): string => {
    if (!n || n === joinName) return n === joinName ? at : n;
    if (kept.has(n)) return n;
    return taken.has(n) || !n.startsWith(prefix) ? `${prefix}${n}` : n;
  };
  const out = cloneGraph(base);
  for (const node of h.nodes) {
    out.nodes.push({
      ...node,
      name: node.name ? `${prefix}${node.name}` : node.name,
      inputs: node.inputs.map(rename),
      outputs: node.outputs.map(rename),
    });
  }
  for (const [k, t] of h.initializers) out.initializers.set(rename(k), t);
  for (const [k, v] of h.valueInfo)
    if (k !== joinName) out.valueInfo.set(rename(k), { ...v, name: rename(k) });
  out.inputs = [...out.inputs, ...headIn.slice(1).map((v) => ({ ...v, name: rename(v.name) }))];
  out.outputs = h.outputs.map((v) => ({ ...v, name: rename(v.name) }));
  return removeDeadNodes(out);
}
