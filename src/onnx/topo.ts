/** Graph traversal: producers, consumers, topological order, dead-node removal. */
import { GraftError } from '../errors.js';
import type { Graph, Node } from './ir.js';

export function producers(graph: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}

export function consumers(graph: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of graph.nodes) {
    for (const i of n.inputs) {
      if (!i) continue;
      const list = m.get(i);
      if (list) list.push(n);
      else m.set(i, [n]);
    }
  }
  return m;
}

/** Names a subgraph attribute reads from the enclosing scope (If/Loop/Scan bodies). */
export function outerScopeInputs(node: Node): string[] {
  const names: string[] = [];
  for (const a of Object.values(node.attrs)) {
    const graphs = a.type === 'graph' ? [a.value] : a.type === 'graphs' ? a.value : [];
    for (const g of graphs) {
      const local = new Set<string>([...g.inputs.map((v) => v.name), ...g.initializers.keys()]);
      for (const n of g.nodes) for (const o of n.outputs) local.add(o);
      for (const n of g.nodes) {
        for (const i of [...n.inputs, ...outerScopeInputs(n)]) if (i && !local.has(i)) names.push(i);
      }
    }
  }
  return names;
}

function nodeInputs(n: Node): string[] {
  const sub = outerScopeInputs(n);
  return sub.length ? [...n.inputs, ...sub] : n.inputs;
}

/** Nodes in an order where every node comes after the producers of its inputs (stable for sorted graphs). */
export function topoSort(graph: Graph): Node[] {
  const prod = producers(graph);
  const state = new Map<Node, 1 | 2>();
  const order: Node[] = [];
  for (const root of graph.nodes) {
    if (state.has(root)) continue;
    const stack: [Node, number][] = [[root, 0]];
    state.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [node, idx] = top;
      const ins = nodeInputs(node);
      if (idx < ins.length) {
        top[1]++;
        const p = prod.get(ins[idx]!);
        if (!p || p === node) continue;
        const s = state.get(p);
        if (s === 1)
          throw new GraftError('CORRUPT_MODEL', `graph has a cycle through node '${p.name || p.opType}'`);
        if (s === undefined) {
          state.set(p, 1);
          stack.push([p, 0]);
        }
      } else {
        stack.pop();
        state.set(node, 2);
        order.push(node);
      }
    }
  }
  return order;
}

/** Removes nodes and initializers that no graph output depends on. Mutates and returns the graph. */
export function removeDeadNodes(graph: Graph): Graph {
  const prod = producers(graph);
  const live = new Set<Node>();
  const needed = new Set<string>();
  const stack = graph.outputs.map((o) => o.name);
  while (stack.length) {
    const name = stack.pop()!;
    if (needed.has(name)) continue;
    needed.add(name);
    const p = prod.get(name);
    if (p && !live.has(p)) {
      live.add(p);
      for (const i of nodeInputs(p)) if (i) stack.push(i);
    }
  }
  graph.nodes = graph.nodes.filter((n) => live.has(n));
  for (const k of [...graph.initializers.keys()]) {
    if (!needed.has(k) && !graph.inputs.some((v) => v.name === k)) graph.initializers.delete(k);
  }
  for (const k of [...graph.valueInfo.keys()]) if (!needed.has(k)) graph.valueInfo.delete(k);
  return graph;
}
