/**
 * Exporters write the exact GELU, 0.5 · x · (1 + erf(x / √2)), as five pointwise nodes. Differentiated node by
 * node, its backward reads four activation-sized forward values (x / √2, 0.5 · x, 1 + erf(…) and the product),
 * which stay alive from the forward pass to the backward one: in a BERT-style encoder they are most of what
 * a layer keeps. findGeluPatterns recognises the chain, so the builder can differentiate it as one GELU whose
 * gradient, Φ(x) + x·φ(x), is recomputed from x alone (rules/activations.ts), as PyTorch's fused GELU does.
 *
 * Recognised, with either operand order of every Mul and Add, Div(x, √2) or Mul(x, 1/√2), and each inner
 * value read only by the next node of the chain:
 *   Mul(Mul(x, 0.5), Add(Erf(x/√2), 1))      (0.5·x) · (1 + erf)
 *   Mul(Mul(x, Add(Erf(x/√2), 1)), 0.5)      (x · (1 + erf)) · 0.5
 */
import type { Graph, Node } from '../onnx/ir.js';
import { consumers } from '../onnx/topo.js';
import { constantValues } from './emitter.js';

/** The chain's last node → its input x. */
export type GeluPatterns = Map<Node, string>;

const near = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-6 * Math.abs(b);

/** The chains of `graph`; a constant that is one of `params` (trained) disqualifies its chain. */
export function findGeluPatterns(graph: Graph, params: ReadonlySet<string> = new Set()): GeluPatterns {
  const readers = consumers(graph);
  const producer = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const scalar = (name: string): number | undefined => {
    if (params.has(name)) return undefined;
    const v = constantValues(graph, name);
    return v && v.length === 1 ? v[0] : undefined;
  };
  /** The node producing `value` when it is an inner value of the chain (read once, not a graph output). */
  const inner = (value: string, op: string): Node | undefined => {
    const n = producer.get(value);
    if (!n || n.opType !== op || n.domain !== '' || outputs.has(value)) return undefined;
    return readers.get(value)?.length === 1 ? n : undefined;
  };
  /** For a node with one constant operand equal to c: its other operand. */
  const otherThan = (n: Node, c: number): string | undefined => {
    const [a, b] = n.inputs;
    if (!a || !b || n.inputs.length !== 2) return undefined;
    if (scalar(b) !== undefined && near(scalar(b)!, c)) return a;
    if (scalar(a) !== undefined && near(scalar(a)!, c)) return b;
    return undefined;
  };
  /** x when `value` is 1 + erf(x / √2). */
  const onePlusErf = (value: string): string | undefined => {
    const add = inner(value, 'Add');
    const erfOut = add && otherThan(add, 1);
    const erf = erfOut !== undefined ? inner(erfOut, 'Erf') : undefined;
    if (!erf) return undefined;
    const div = inner(erf.inputs[0]!, 'Div');
    if (div) {
      const c = div.inputs[1] ? scalar(div.inputs[1]) : undefined;
      return c !== undefined && near(c, Math.SQRT2) ? div.inputs[0] : undefined;
    }
    const mul = inner(erf.inputs[0]!, 'Mul');
    return mul ? otherThan(mul, Math.SQRT1_2) : undefined;
  };
  const found: GeluPatterns = new Map();
  for (const n of graph.nodes) {
    if (n.opType !== 'Mul' || n.domain !== '' || n.inputs.length !== 2) continue;
    const [a, b] = n.inputs as [string, string];
    // (0.5·x) · (1 + erf(x/√2))
    for (const [half, cdf] of [
      [a, b],
      [b, a],
    ] as const) {
      const x = onePlusErf(cdf);
      const h = x !== undefined ? inner(half, 'Mul') : undefined;
      if (h && otherThan(h, 0.5) === x) found.set(n, x!);
    }
    if (found.has(n)) continue;
    // (x · (1 + erf(x/√2))) · 0.5
    const productOut = otherThan(n, 0.5);
    const product = productOut !== undefined ? inner(productOut, 'Mul') : undefined;
    if (!product) continue;
    const [p, q] = product.inputs as [string, string];
    if (onePlusErf(q) === p) found.set(n, p);
    else if (onePlusErf(p) === q) found.set(n, q);
  }
  return found;
}
