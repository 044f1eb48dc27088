/**
 * Does `graft rank` order candidates the way linear probes do? For each data set, rank() scores every
 * candidate on the training split (k-NN CV, LogME); then a linear probe (fitHead, L-BFGS — what `graft train`
 * fits) trains on the whole training split of each candidate and is scored on the held-out split. Prints both
 * tables and Kendall's τ-b between each rank score and the probes' held-out accuracies.
 *
 *   node --import tsx bench/rank-kendall.ts [--shots 100] [--data mnist,spam-assassin] [--max-examples 500]
 *
 * MNIST uses `graft demo`'s split (no validation, 10% test, seed 0) with --shots per class; spam-assassin uses
 * the text pipeline's (20% held out, seed 42), all of its training split.
 */
import { parseArgs } from 'node:util';
import { loadDataset } from '../src/data/load.js';
import { sampleShots, stratifiedSplit } from '../src/data/split.js';
import type { Dataset, Example, ImageSource } from '../src/data/types.js';
import { accuracy } from '../src/eval/metrics.js';
import { selectRows, type FeatureMatrix } from '../src/features/matrix.js';
import { kendallTau } from '../src/rank/kendall.js';
import { rank, type RankResult } from '../src/rank/rank.js';
import { imageCandidates, TFIDF_VARIANTS } from '../src/rank/sources.js';
import { HEAD_TRAINING_DEFAULTS } from '../src/heads/fit-dense.js';
import { fitHead } from '../src/heads/fitted.js';
import { tfidfFeatures } from '../src/text/tfidf/features.js';
import { fitTfidf } from '../src/text/tfidf/vectorizer.js';

const { values } = parseArgs({
  options: {
    shots: { type: 'string', default: '100' },
    data: { type: 'string', default: 'mnist,spam-assassin' },
    'max-examples': { type: 'string', default: '500' },
  },
});
const shots = Number(values.shots);
const maxExamples = Number(values['max-examples']);

interface Split {
  valSplit: number;
  testSplit: number;
  seed: number;
  shots?: number;
}

/** (candidate key → probe held-out accuracy) for every candidate rank() scored. */
type ProbeScores = Map<string, number>;
const key = (model: string, feature: string) => `${model} / ${feature}`;

async function probe(train: FeatureMatrix, held: FeatureMatrix, classes: number, standardize: boolean) {
  const head = await fitHead(train, classes, {
    ...HEAD_TRAINING_DEFAULTS,
    kind: 'linear',
    hidden: [],
    dropout: 0,
    k: 5,
    standardize,
  });
  const probs = await head.predictProbs(held);
  await head.release();
  return accuracy(probs, held.labels);
}

function splitOf(ds: Dataset, s: Split) {
  const split = stratifiedSplit(ds, { validation: s.valSplit, test: s.testSplit, seed: s.seed });
  const train = s.shots ? sampleShots(split.train, s.shots, s.seed) : split.train;
  const held = s.testSplit > 0 ? split.test : split.validation;
  return { train: train.examples, held: held.examples };
}

async function imageProbes(ds: Dataset, s: Split, r: RankResult): Promise<ProbeScores> {
  const { train, held } = splitOf(ds, s) as {
    train: readonly Example<ImageSource>[];
    held: readonly Example<ImageSource>[];
  };
  const out: ProbeScores = new Map();
  for (const model of [...new Set(r.candidates.map((c) => c.model))]) {
    // Train and held-out rows in one extraction (pixels takes its size from the examples it is given).
    const all = await imageCandidates(model, [...train, ...held], { cacheDir: undefined });
    for (const { feature, matrix } of all) {
      if (matrix.labels.length !== train.length + held.length) throw new Error('unreadable examples');
      const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
      const tr = selectRows(matrix, rows(0, train.length));
      const te = selectRows(matrix, rows(train.length, train.length + held.length));
      out.set(key(model, feature), await probe(tr, te, ds.labels.length, true));
    }
  }
  return out;
}

async function textProbes(ds: Dataset, s: Split): Promise<ProbeScores> {
  const { train, held } = splitOf(ds, s) as {
    train: readonly Example<string>[];
    held: readonly Example<string>[];
  };
  const texts = (xs: readonly Example<string>[]) => xs.map((e) => e.source);
  const labels = (xs: readonly Example<string>[]) => Int32Array.from(xs, (e) => e.label);
  const out: ProbeScores = new Map();
  for (const v of TFIDF_VARIANTS) {
    const vec = fitTfidf(texts(train), v.options);
    const tr = await tfidfFeatures(vec, texts(train), labels(train));
    const te = await tfidfFeatures(vec, texts(held), labels(held));
    out.set(key('tfidf', v.name), await probe(tr, te, ds.labels.length, false));
  }
  return out;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

for (const name of values.data.split(',')) {
  const ds = await loadDataset(name);
  const split: Split =
    ds.kind === 'image'
      ? { valSplit: 0, testSplit: 0.1, seed: 0, shots }
      : { valSplit: 0.2, testSplit: 0, seed: 42 };
  const t0 = performance.now();
  const r = await rank({ data: ds, ...split, maxExamples });
  const rankSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const probes = ds.kind === 'image' ? await imageProbes(ds, split, r) : await textProbes(ds, split);
  const probeSeconds = (performance.now() - t1) / 1000;
  const rows = r.candidates.map((c) => ({ c, probe: probes.get(key(c.model, c.feature))! }));
  console.log(
    `\n${name}: ${r.counts.scored} of ${r.counts.train} training examples ranked (${rankSeconds.toFixed(0)} s); probes on all ${r.counts.train}, held-out accuracy (${probeSeconds.toFixed(0)} s)`,
  );
  console.log(
    'model / features'.padEnd(52) + 'k-NN CV'.padStart(9) + 'LogME'.padStart(9) + 'probe'.padStart(9),
  );
  for (const { c, probe: p } of rows)
    console.log(
      key(c.model, c.feature).padEnd(52) +
        pct(c.knnAccuracy).padStart(9) +
        c.logme.toFixed(4).padStart(9) +
        pct(p).padStart(9),
    );
  const probeAcc = rows.map((x) => x.probe);
  const tauKnn = kendallTau(
    rows.map((x) => x.c.knnAccuracy),
    probeAcc,
  );
  const tauLogme = kendallTau(
    rows.map((x) => x.c.logme),
    probeAcc,
  );
  console.log(
    `Kendall τ-b vs probe accuracy: k-NN CV ${tauKnn.toFixed(3)}, LogME ${tauLogme.toFixed(3)} (${rows.length} candidates)`,
  );
}
