/**
 * Where graft's linear-head fit goes (the fit of bench/linear-head-vs-sklearn.ts, whose features it reads from
 * $PEERS_OUT, so run that once first), for both objectives L-BFGS can evaluate: the optimizer addon's one pass
 * (what trainHead uses where the addon is built) and ONNX Runtime running the head's training graph on the fixed
 * batch (its fallback). Each fit: building (statistics, the standardised rows, sessions), then L-BFGS split into
 * the loss + gradient evaluations and the solver's own work.
 *
 *   node --import tsx bench/linear-head-parts.ts [--fits 3]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createHeadModel, HEAD_TRAINING_DEFAULTS } from '../src/heads/fit-dense.js';
import { linearSoftmaxObjective } from '../src/heads/linear-objective.js';
import { minimizeLbfgs, type Objective } from '../src/train/lbfgs.js';
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
const train = { data, dim: D, labels };
const options = { ...HEAD_TRAINING_DEFAULTS, session: { threads: 2, interOpThreads: 1 } };

for (const path of ['one pass (addon)', 'ONNX Runtime graph'] as const)
  for (let fit = 0; fit < Number(values.fits); fit++) {
    let t = performance.now();
    const onePass = path === 'one pass (addon)';
    const head = await createHeadModel(train, K, options, !onePass);
    const objective: Objective = onePass
      ? linearSoftmaxObjective(head.params, {
          features: data,
          dim: D,
          labels,
          numClasses: K,
          standardize: head.options.standardize,
          threads: 2,
        })!
      : () => head.fullBatchGradients();
    const build = performance.now() - t;
    let evaluating = 0;
    let evaluations = 0;
    const weights = new Set([...head.params.keys()].filter((k) => k.endsWith('/weight')));
    t = performance.now();
    const r = await minimizeLbfgs(
      head.params,
      async () => {
        const t0 = performance.now();
        const g = await objective();
        evaluating += performance.now() - t0;
        evaluations++;
        return g;
      },
      { maxIter: 100, l2: 1 / N, penalized: weights },
    );
    const solve = performance.now() - t;
    await head.release();
    console.log(
      `${path}, fit ${fit + 1}: build ${build.toFixed(0)} ms; L-BFGS ${solve.toFixed(0)} ms, ${r.iterations} ` +
        `iterations: ${evaluations} evaluations ${evaluating.toFixed(0)} ms ` +
        `(${(evaluating / evaluations).toFixed(1)} each), solver ${(solve - evaluating).toFixed(0)} ms`,
    );
  }
