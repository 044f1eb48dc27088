/** Writing ONNX graphs in code: unique names, typed attribute helpers, initializers and nodes. */
import type { DType, Tensor } from '../tensor.js';
import { emptyGraph, type Attribute, type Dim, type Graph, type Node } from './ir.js';

/** Attribute constructors: `{ axis: attr.int(1), alpha: attr.float(0.2) }`. */
export const attr = {
  int: (value: number): Attribute => ({ type: 'int', value }),
  ints: (value: readonly number[]): Attribute => ({ type: 'ints', value: [...value] }),
  float: (value: number): Attribute => ({ type: 'float', value }),
  floats: (value: readonly number[]): Attribute => ({ type: 'floats', value: [...value] }),
  string: (value: string): Attribute => ({ type: 'string', value }),
  strings: (value: readonly string[]): Attribute => ({ type: 'strings', value: [...value] }),
  tensor: (value: Tensor): Attribute => ({ type: 'tensor', value }),
  graph: (value: Graph): Attribute => ({ type: 'graph', value }),
};

export interface NodeOptions {
  name?: string;
  domain?: string;
  /** Output names, or a count of outputs to name automatically (default 1). */
  outputs?: readonly string[] | number;
}

export class GraphBuilder {
  readonly graph: Graph;
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(graphOrName: Graph | string = 'graph') {
    this.graph = typeof graphOrName === 'string' ? emptyGraph(graphOrName) : graphOrName;
    for (const v of this.graph.inputs) this.used.add(v.name);
    for (const k of this.graph.initializers.keys()) this.used.add(k);
    for (const n of this.graph.nodes) {
      this.used.add(n.name);
      for (const o of n.outputs) this.used.add(o);
    }
  }

  /** A name not used yet in this graph, derived from `prefix`. */
  unique(prefix: string): string {
    let name = prefix;
    while (this.used.has(name)) name = `${prefix}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  input(name: string, dtype: DType, shape: readonly Dim[]): string {
    this.used.add(name);
    this.graph.inputs.push({ name, dtype, shape: [...shape] });
    return name;
  }

  output(name: string, dtype?: DType, shape?: readonly Dim[]): string {
    const info = { name, ...(dtype ? { dtype } : {}), ...(shape ? { shape: [...shape] } : {}) };
    this.graph.outputs.push(info);
    return name;
  }

  /** Adds an initializer under exactly this name (replacing one of the same name). */
  initializer(name: string, value: Tensor): string {
    this.used.add(name);
    this.graph.initializers.set(name, value);
    return name;
  }

  /** Adds an initializer under a fresh name derived from `prefix`. */
  constant(prefix: string, value: Tensor): string {
    return this.initializer(this.unique(prefix), value);
  }

  /** Appends a node; returns its output names. */
  node(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, Attribute> = {},
    options: NodeOptions = {},
  ): string[] {
    const name = this.unique(options.name ?? opType);
    const outs = options.outputs ?? 1;
    const outputs =
      typeof outs === 'number'
        ? Array.from({ length: outs }, (_, i) => this.unique(outs === 1 ? `${name}_out` : `${name}_out${i}`))
        : outs.map((o) => (this.used.add(o), o));
    const node: Node = { name, opType, domain: options.domain ?? '', inputs: [...inputs], outputs, attrs };
    this.graph.nodes.push(node);
    return outputs;
  }

  /** Appends a single-output node and returns the output name. */
  op(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, Attribute> = {},
    options: NodeOptions = {},
  ): string {
    return this.node(opType, inputs, attrs, options)[0]!;
  }
}
