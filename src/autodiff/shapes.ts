/**
 * What the gradient rules know statically about the forward graph's values: onnx/shape-inference's types
 * (which fall back to declared value_info). Rules treat shapes as an optimisation: whenever something is
 * unknown they emit dynamic Shape-based subgraphs instead, or report the unknown rank they need.
 */
import type { Dim, Graph } from '../onnx/ir.js';
import { inferTypes, type TypeInfo } from '../onnx/shape-inference.js';
import type { DType } from '../tensor.js';

export class ShapeEnv {
  private readonly known: Map<string, TypeInfo>;

  constructor(graph: Graph, opset = 17) {
    this.known = inferTypes(graph, { opset });
  }

  shape(name: string): Dim[] | undefined {
    return this.known.get(name)?.shape;
  }

  dtype(name: string): DType | undefined {
    return this.known.get(name)?.dtype;
  }

  rank(name: string): number | undefined {
    return this.shape(name)?.length;
  }

  /** The shape when every dim is a number. */
  staticShape(name: string): number[] | undefined {
    const s = this.shape(name);
    return s && s.every((d) => typeof d === 'number') ? (s as number[]) : undefined;
  }
}
