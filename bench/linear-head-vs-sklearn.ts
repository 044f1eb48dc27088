/**
 * Linear head (logistic regression) on 10,000 × 1280 features, 10 classes: graft's full-batch L-BFGS path
 * (`trainHead` with a linear head) vs scikit-learn's LogisticRegression(lbfgs, multinomial, C=1,
 * max_iter=100, tol=1e-4), both on the very same features, interleaved repetitions in one run.
 * Goals: graft's time ≤ 0.25× scikit-learn's, test accuracy within 0.5 pp.
 *
 *   node --import tsx bench/linear-head-vs-sklearn.ts [--reps 5] [--threads 2] [--no-standardize]
 *
 * The data are ../shared/peers/sk_bench.py's (run here first when its files are missing): it writes the
 * training matrix to $PEERS_OUT (default $TMPDIR/graft-peers); bench/peers/sk_head.py regenerates its 2,000
 * test rows with the same generator, checks the training rows against the file, and times one sklearn fit
 * per call. graft's time includes building its ONNX Runtime sessions (the training set is baked into the
 * graph), standardisation statistics, and the solver; sklearn's is `clf.fit`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import type { FeatureMatrix } from '../src/features/matrix.js';
import { evaluateHead, HEAD_TRAINING_DEFAULTS, trainHead } from '../src/strategies/fit-head.js';
import {
  BENCH_PEERS,
  fmt,
  havePython,
  median,
  peersOut,
  PYTHON,
  runJson,
  SHARED_PEERS,
  timed,
} from './util/stats.js';

interface SkResult {
  times: number[];
  n_iter: number;
  converged: boolean;
  train_acc: number;
  test_acc: number;
  X: string;
  y: string;
  Xte: string;
  yte: string;
}

const D = 1280;

function readMatrix(xPath: string, yPath: string): FeatureMatrix {
  const xb = readFileSync(xPath);
  const yb = readFileSync(yPath);
  const data = new Float32Array(xb.buffer.slice(xb.byteOffset, xb.byteOffset + xb.byteLength));
  const y64 = new BigInt64Array(yb.buffer.slice(yb.byteOffset, yb.byteOffset + yb.byteLength));
  return { data, dim: D, labels: Int32Array.from(y64, Number) };
}

async function main(): Promise<void> {
  ort.env.logLevel = 'error';
  const { values } = parseArgs({
    options: {
      reps: { type: 'string', default: '5' },
      threads: { type: 'string', default: '2' },
      'no-standardize': { type: 'boolean', default: false },
    },
  });
  const reps = Number(values.reps);
  const threads = Number(values.threads);
  if (!havePython(['numpy', 'sklearn', 'threadpoolctl'])) {
    console.log('skipped: /usr/bin/python3 with numpy and scikit-learn is not available');
    return;
  }
  const out = peersOut();
  if (!existsSync(join(out, 'sk_X_10000x1280.f32'))) {
    console.log(`making the data with ${SHARED_PEERS}sk_bench.py (it also times sklearn 10 times) ...`);
    const r = spawnSync(PYTHON, [join(SHARED_PEERS, 'sk_bench.py'), String(threads)], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('sk_bench.py failed');
  }
  const sk = (): SkResult =>
    runJson<SkResult>(PYTHON, [join(BENCH_PEERS, 'sk_head.py'), '--threads', String(threads)]);
  const first = sk();
  const train = readMatrix(first.X, first.y);
  const test = readMatrix(first.Xte, first.yte);
  const options = {
    ...HEAD_TRAINING_DEFAULTS,
    standardize: !values['no-standardize'],
    session: { threads, interOpThreads: 1 },
  };
  const graftFit = async () => trainHead(train, 10, options);

  // Warm-up: one graft fit (module loading, ORT's first session); sklearn was warmed by `first`.
  await (await graftFit()).model.release();
  const tSk: number[] = [];
  const tGraft: number[] = [];
  let skLast = first;
  let graftAcc = 0;
  let graftIters = 0;
  for (let r = 0; r < reps; r++) {
    const runGraft = async () => {
      const { s, value } = await timed(graftFit);
      tGraft.push(s);
      graftIters = Number(value.history.epochs[0]!.metrics['iterations']);
      graftAcc = (await evaluateHead(value.model, test)).accuracy;
      await value.model.release();
    };
    const runSk = () => {
      skLast = sk();
      tSk.push(skLast.times[0]!);
    };
    if (r % 2 === 0) {
      await runGraft();
      runSk();
    } else {
      runSk();
      await runGraft();
    }
  }
  const paired = median(tGraft.map((t, i) => t / tSk[i]!));
  console.log(
    `linear head, 10,000 x 1280 float32, 10 classes; ${threads} threads; ${reps} interleaved reps` +
      `; graft standardize=${options.standardize}`,
  );
  console.log(
    `sklearn LogisticRegression(lbfgs): median ${fmt(median(tSk))} s  n_iter ${skLast.n_iter}` +
      `  converged ${skLast.converged}  test acc ${(skLast.test_acc * 100).toFixed(2)}%`,
  );
  console.log(
    `graft trainHead (L-BFGS)        : median ${fmt(median(tGraft))} s  n_iter ${graftIters}` +
      `  test acc ${(graftAcc * 100).toFixed(2)}%`,
  );
  console.log(
    `time ratio graft/sklearn: ${fmt(median(tGraft) / median(tSk))} of medians, ${fmt(paired)} median of paired reps` +
      ` (goal <= 0.25); accuracy gap ${((graftAcc - skLast.test_acc) * 100).toFixed(2)} pp (goal within 0.5)`,
  );
}

await main();
