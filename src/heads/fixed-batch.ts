/**
 * A full-batch solver evaluates the same training set dozens of times. The head's weight gradient, Gᵀ·X
 * (Gemm with transA over [batch × classes] and [batch × features]), is the most expensive node of each
 * evaluation: ONNX Runtime rearranges the whole feature matrix for it on every run. With the features also
 * given once as Xᵀ, the same product reads Xᵀ with transB (Gemm(G, Xᵀ, transA, transB)): the same sums in the
 * same order (bit-identical gradients), measured 25–35% faster for 8,000 × 1,280 features on 2 threads.
 */
import type { Graph } from '../onnx/ir.js';
import { attr } from '../onnx/builder.js';
import { getAttr } from '../onnx/ir.js';

/** The graph input that carries the transposed fixed features, [features × batch]. */
export const FEATURES_T = 'features:transposed';

/**
 * Rewrites every Gemm(G, features, transA=1) of `graph` to read FEATURES_T with transB=1 and declares that
 * input. Returns whether anything was rewritten (then every run must feed FEATURES_T).
 */
export function readTransposedFeatures(graph: Graph, features: string): boolean {
  const decl = graph.inputs.find((v) => v.name === features);
  let rewritten = false;
  for (const n of graph.nodes) {
    if (n.opType !== 'Gemm' || n.domain !== '' || n.inputs[1] !== features) continue;
    if (getAttr(n, 'transA', 'int') !== 1 || (getAttr(n, 'transB', 'int') ?? 0) !== 0) continue;
    n.inputs[1] = FEATURES_T;
    n.attrs = { ...n.attrs, transB: attr.int(1) };
    rewritten = true;
  }
  if (rewritten) {
    const shape = decl?.shape ? [...decl.shape].reverse() : undefined;
    graph.inputs.push({ name: FEATURES_T, dtype: 'float32', ...(shape ? { shape } : {}) });
  }
  return rewritten;
}

/** The [cols × rows] transpose of a row-major [rows × cols] matrix, in cache-sized tiles. */
export function transposeMatrix(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) {
        const src = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = x[src + c]!;
      }
    }
  }
  return out;
}
