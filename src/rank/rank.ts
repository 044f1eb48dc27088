/**
 * `rank()`: which backbone, cut or baseline should this data set use? Scores every candidate feature space on
 * the training split only — cross-validated cosine k-NN accuracy beside LogME — without training any head.
 * The split is `graft train`'s (same seed, fractions and shots), so nothing held out informs the ranking.
 */
import { loadDataset } from '../data/load.js';
import type { DataWarning } from '../data/types.js';
import { unreadableWarning } from '../data/warnings.js';
import { sampleShots, stratifiedSplit } from '../data/split.js';
import type { Dataset, Example } from '../data/types.js';
import { GraftError } from '../errors.js';
import { modality } from '../modalities/index.js';
import { TRAIN_DEFAULTS } from '../pipeline/options.js';
import { TFIDF_ID } from '../pipeline/text-tfidf.js';
import { scoreCandidate, stratifiedSubsample, type RankedCandidate } from './score.js';
import type { SourceOptions } from './sources.js';

export type { RankedCandidate } from './score.js';

export interface RankOptions {
  /** A dataset spec (folder, .csv, .jsonl, `mnist`, `spam-assassin`) or a loaded dataset. */
  data: string | Dataset;
  /** Models to rank. Default: images — the default backbone and `pixels`; text — `tfidf`. */
  models?: readonly string[];
  shots?: number;
  valSplit: number;
  testSplit: number;
  seed: number;
  /** Training examples scored at most (stratified subsample): k-NN costs O(n²·d), LogME O(min(n, d)³). */
  maxExamples: number;
  cacheDir?: string | false;
  threads?: number;
  onBadInput: 'skip' | 'fail';
  /** Called as each candidate is scored. */
  onCandidate?: (c: RankedCandidate) => void;
  signal?: AbortSignal;
}

export const RANK_DEFAULTS: Omit<RankOptions, 'data'> = {
  valSplit: TRAIN_DEFAULTS.valSplit,
  testSplit: TRAIN_DEFAULTS.testSplit,
  seed: TRAIN_DEFAULTS.seed,
  maxExamples: 500,
  onBadInput: 'skip',
};

export interface RankResult {
  dataset: string;
  kind: 'image' | 'text';
  labels: string[];
  /** Training examples available, and scored (after subsampling). */
  counts: { train: number; scored: number };
  /** Best first: by k-NN accuracy, then LogME. */
  candidates: RankedCandidate[];
  /** Inputs left out: unusable at load, or undecodable at extraction (counted once however many models). */
  warnings: DataWarning[];
}

/** The candidates' order: k-NN accuracy, LogME breaking ties. */
export function byRank(a: RankedCandidate, b: RankedCandidate): number {
  return b.knnAccuracy - a.knnAccuracy || b.logme - a.logme;
}

export async function rank(input: Partial<RankOptions> & Pick<RankOptions, 'data'>): Promise<RankResult> {
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const onBadInput = input.onBadInput ?? RANK_DEFAULTS.onBadInput;
  const dataset = typeof input.data === 'string' ? await loadDataset(input.data, { onBadInput }) : input.data;
  // The split `graft train` makes (the same defaults for every kind of data).
  const o = { ...RANK_DEFAULTS, ...defined } as RankOptions;
  if (dataset.labels.length < 2)
    throw new GraftError('BAD_INPUT', `need at least 2 classes, found ${dataset.labels.length}`);
  const split = stratifiedSplit(dataset, { validation: o.valSplit, test: o.testSplit, seed: o.seed });
  const train = o.shots ? sampleShots(split.train, o.shots, o.seed) : split.train;
  const plugin = modality(dataset.kind);
  const scored: readonly Example<unknown>[] = stratifiedSubsample<Example<unknown>>(
    train.examples,
    o.maxExamples,
    o.seed,
  );
  const models = o.models ?? plugin.rankDefaults;
  if (typeof input.cacheDir === 'string' && models.every((m) => m === TFIDF_ID))
    throw new GraftError(
      'BAD_OPTION',
      'cacheDir (--cache-dir): tf-idf is fitted on the training split at every run and reads no feature cache; ' +
        'leave it out, or rank an encoder beside it (--models tfidf,hub:…)',
    );
  const skipped = new Map<string, string>();
  const so: SourceOptions = {
    onSkipped: (list) => list.forEach(({ id, reason }) => skipped.set(id, reason)),
    cacheDir: o.cacheDir,
    onBadInput: o.onBadInput,
    ...(o.threads ? { session: { threads: o.threads } } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  };
  const candidates: RankedCandidate[] = [];
  for (const model of models) {
    const t0 = performance.now();
    const features = await plugin.rankCandidates(model, scored, so);
    const extract = (performance.now() - t0) / 1000 / Math.max(1, features.length);
    for (const { feature, matrix } of features) {
      if (o.signal?.aborted) throw new GraftError('CANCELLED', 'ranking cancelled');
      const { scoreSeconds, ...score } = scoreCandidate(matrix, o.seed);
      const c: RankedCandidate = { model, feature, ...score, seconds: { extract, score: scoreSeconds } };
      candidates.push(c);
      o.onCandidate?.(c);
    }
  }
  return {
    dataset: dataset.name,
    kind: dataset.kind,
    labels: [...dataset.labels],
    counts: { train: train.examples.length, scored: scored.length },
    candidates: candidates.sort(byRank),
    warnings: [
      ...dataset.warnings,
      ...unreadableWarning([...skipped].map(([id, reason]) => ({ id, reason }))),
    ],
  };
}
