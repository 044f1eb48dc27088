/**
 * Where graft's linear-head fit goes (the fit of bench/linear-head-vs-sklearn.ts, whose features it reads from
 * $PEERS_OUT, so run that once first): building the head (statistics, the standardised and transposed fixed
 * batch, sessions), then L-BFGS split into the loss + gradient evaluations and the solver's own work; and the two
 * Gemms of an evaluation beside the alternative layout of the weight gradient (Xᵀ·G instead of Gᵀ·X).
 *
 *   node --import tsx bench/linear-head-parts.ts [--fits 3]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { createHeadModel, HEAD_TRAINING_DEFAULTS } from '../src/heads/fit-dense.js';
import { attr, GraphBuilder } from '../src/onnx/builder.js';
import { createModel } from '../src/onnx/ir.js';
import { encodeModel } from '../src/onnx/io.js';
import { TRAINING_SESSION } from '../src/learner/trainable-graph.js';
import { ortSessionOptions } from '../src/runtime/session.js';
import { minimizeLbfgs } from '../src/train/lbfgs.js';
import { peersOut } from './util/stats.js';

const { values } = parseArgs({ options: { fits: { type: 'string', default: '3' } } });
const D = 1280;
const K = 10;
const bytes = (name: string) => {
  const b = readFileSync(join(peersOut(), `mnist_mnv2_${name}`));
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
};
const data = new Float32Array(bytes('train_X.f32'));
const labels = Int32Array.from(new BigInt64Array(bytes('train_y.i64')), Number);
const N = labels.length;
const options = { ...HEAD_TRAINING_DEFAULTS, session: { threads: 2, interOpThreads: 1 } };

for (let fit = 0; fit < Number(values.fits); fit++) {
  let t = performance.now();
  const head = await createHeadModel({ data, dim: D, labels }, K, options, true);
  const build = performance.now() - t;
  let evaluating = 0;
  let evaluations = 0;
  const weights = new Set([...head.params.keys()].filter((k) => k.endsWith('/weight')));
  t = performance.now();
  const r = await minimizeLbfgs(
    head.params,
    async () => {
      const t0 = performance.now();
      const g = await head.fullBatchGradients();
      evaluating += performance.now() - t0;
      evaluations++;
      return g;
    },
    { maxIter: 100, l2: 1 / N, penalized: weights },
  );
  const solve = performance.now() - t;
  await head.release();
  console.log(
    `fit ${fit + 1}: build ${build.toFixed(0)} ms; L-BFGS ${solve.toFixed(0)} ms, ${r.iterations} iterations: ` +
      `${evaluations} evaluations ${evaluating.toFixed(0)} ms (${(evaluating / evaluations).toFixed(1)} each), ` +
      `solver ${(solve - evaluating).toFixed(0)} ms`,
  );
}

/** One Gemm a × b (optionally transposed) as its own session; ms per run over 10 runs, median of 4 rounds. */
async function gemmMs(a: ort.Tensor, b: ort.Tensor, transA: number, transB: number): Promise<number> {
  const g = new GraphBuilder('gemm');
  g.input('a', 'float32', [...a.dims]);
  g.input('b', 'float32', [...b.dims]);
  g.op('Gemm', ['a', 'b'], { transA: attr.int(transA), transB: attr.int(transB) }, { outputs: ['y'] });
  g.output('y', 'float32');
  const s = await ort.InferenceSession.create(
    encodeModel(createModel(g.graph, 17)),
    ortSessionOptions({ ...TRAINING_SESSION, threads: 2 }),
  );
  const rounds: number[] = [];
  for (let r = 0; r < 4; r++) {
    const t = performance.now();
    for (let i = 0; i < 10; i++) await s.run({ a, b });
    rounds.push((performance.now() - t) / 10);
  }
  await s.release();
  return rounds.sort((p, q) => p - q)[2]!;
}
const wave = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i));
const x = new ort.Tensor('float32', data, [N, D]);
const xt = new ort.Tensor('float32', wave(N * D), [D, N]);
const w = new ort.Tensor('float32', wave(D * K), [D, K]);
const g = new ort.Tensor('float32', wave(N * K), [N, K]);
console.log(
  `Gemms of one evaluation (${N} × ${D}, ${K} classes): forward X·W ${(await gemmMs(x, w, 0, 0)).toFixed(1)} ms; ` +
    `weight gradient Gᵀ·X (as graft runs it, reading Xᵀ) ${(await gemmMs(g, xt, 1, 1)).toFixed(1)} ms, ` +
    `Xᵀ·G ${(await gemmMs(xt, g, 0, 0)).toFixed(1)} ms`,
);
