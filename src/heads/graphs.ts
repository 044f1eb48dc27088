/**
 * Non-parametric heads as ONNX graphs (features → probabilities), built only from ops whose signatures are the
 * same in every opset graft supports, so they merge into any backbone.
 */
import { attr, GraphBuilder } from '../onnx/builder.js';
import type { Graph } from '../onnx/ir.js';
import { float32 } from '../tensor.js';
import type { NcmGemm } from './ncm.js';

/** Appends x / max(‖x‖₂, 1e-12) row-wise; returns the normalised tensor. */
function l2Normalize(b: GraphBuilder, x: string, dim: number): string {
  const ones = b.constant('l2/ones', float32([dim, 1], new Float32Array(dim).fill(1)));
  const norm = b.op('Sqrt', [b.op('MatMul', [b.op('Mul', [x, x]), ones])]);
  const eps = b.constant('l2/eps', float32([], [1e-12]));
  return b.op('Div', [x, b.op('Max', [norm, eps])]);
}

function finish(b: GraphBuilder, probs: string, numClasses: number): Graph {
  b.op('Identity', [probs], {}, { outputs: ['probabilities'] });
  b.output('probabilities', 'float32', ['batch', numClasses]);
  return b.graph;
}

/** Nearest class mean: softmax(Gemm(l2normalize(x), W, b, transB=1)), temperature folded into W and b. */
export function ncmGraph(g: NcmGemm): Graph {
  const b = new GraphBuilder('ncm_head');
  const x = l2Normalize(b, b.input('features', 'float32', ['batch', g.dim]), g.dim);
  const w = b.constant('ncm/weight', float32([g.numClasses, g.dim], g.weight));
  const bias = b.constant('ncm/bias', float32([g.numClasses], g.bias));
  const logits = b.op('Gemm', [x, w, bias], { transB: attr.int(1) });
  return finish(b, b.op('Softmax', [logits], { axis: attr.int(1) }), g.numClasses);
}

export interface KnnGraphData {
  /** Training features, row-major [rows × dim] (normalised inside the graph). */
  bank: Float32Array;
  labels: Int32Array;
  dim: number;
  numClasses: number;
  k: number;
}

/**
 * k-nearest neighbours by cosine similarity: vote fractions of the k most similar training rows. Each vote is
 * weighted 1 + 1e-6·similarity, which only breaks ties (towards the more similar neighbours).
 */
export function knnGraph(d: KnnGraphData): Graph {
  const rows = d.labels.length;
  const k = Math.min(d.k, rows);
  const b = new GraphBuilder('knn_head');
  const x = l2Normalize(b, b.input('features', 'float32', ['batch', d.dim]), d.dim);
  const bankNorm = new Float32Array(d.bank.length);
  for (let r = 0; r < rows; r++) {
    let sq = 0;
    for (let j = 0; j < d.dim; j++) sq += d.bank[r * d.dim + j]! ** 2;
    const s = 1 / Math.max(Math.sqrt(sq), 1e-12);
    for (let j = 0; j < d.dim; j++) bankNorm[r * d.dim + j] = d.bank[r * d.dim + j]! * s;
  }
  const bank = b.constant('knn/bank', float32([rows, d.dim], bankNorm));
  const sims = b.op('Gemm', [x, bank], { transB: attr.int(1) });
  const kT = b.constant('knn/k', { dtype: 'int64', shape: [1], data: BigInt64Array.of(BigInt(k)) });
  const [topSims, topIdx] = b.node('TopK', [sims, kT], { axis: attr.int(1) }, { outputs: 2 });
  const onehot = new Float32Array(rows * d.numClasses);
  d.labels.forEach((y, r) => (onehot[r * d.numClasses + y] = 1));
  const votesPerNeighbour = b.op('Gather', [
    b.constant('knn/onehot', float32([rows, d.numClasses], onehot)),
    topIdx!,
  ]);
  const one = b.constant('knn/one', float32([], [1]));
  const tiny = b.constant('knn/tiebreak', float32([], [1e-6]));
  const weights = b.op('Add', [one, b.op('Mul', [topSims!, tiny])]);
  const shape = b.constant('knn/shape', { dtype: 'int64', shape: [3], data: BigInt64Array.of(0n, 1n, -1n) });
  const votes = b.op('MatMul', [b.op('Reshape', [weights, shape]), votesPerNeighbour]);
  const flat = b.op('Flatten', [votes], { axis: attr.int(1) });
  const ones = b.constant('knn/ones', float32([d.numClasses, 1], new Float32Array(d.numClasses).fill(1)));
  return finish(b, b.op('Div', [flat, b.op('MatMul', [flat, ones])]), d.numClasses);
}
