/** `graft rank <data>`: rank backbones × cuts × baselines by cross-validated k-NN accuracy and LogME. */
import type { Command } from 'commander';
import { rank, type RankedCandidate, type RankResult } from '../../rank/rank.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { choice, number } from '../parse.js';
import { bold, dim, printJson, table } from '../output.js';
import { SkipSummary } from '../skip-summary.js';

interface RankFlags {
  models?: string;
  shots?: string;
  valSplit?: string;
  testSplit?: string;
  seed?: string;
  maxExamples?: string;
  onBadInput?: string;
  cacheDir?: string;
  cache: boolean;
  threads?: string;
  json?: boolean | string;
  quiet?: boolean;
}

const seconds = (c: RankedCandidate) => `${(c.seconds.extract + c.seconds.score).toFixed(1)} s`;

export function formatRank(r: RankResult): string {
  const rows = r.candidates.map((c, i) => [
    String(i + 1),
    c.model,
    c.feature,
    String(c.dim),
    `${(c.knnAccuracy * 100).toFixed(1)}%`,
    c.logme.toFixed(4),
    seconds(c),
  ]);
  const head = `${bold(`Ranking on ${r.dataset}`)} (training split only: ${r.counts.scored} of ${r.counts.train} examples scored)`;
  const note = dim(
    'k-NN: cosine, stratified folds of the training split; LogME: evidence per example (You et al., 2021), higher is better',
  );
  return `${head}\n${table(['#', 'model', 'features', 'dim', 'k-NN CV', 'LogME', 'time'], rows)}\n${note}`;
}

export function registerRank(program: Command): void {
  program
    .command('rank <data>')
    .description('rank backbones, cuts and no-transfer baselines for a data set, without training a head')
    .option(
      '--models <ids>',
      'comma-separated models (default: the default backbone and pixels; tfidf for text)',
    )
    .option('--shots <k>', 'use k training examples per class (as graft train --shots)')
    .option('--val-split <f>', 'fraction held out for validation (as graft train)')
    .option('--test-split <f>', 'fraction held out for the final test (as graft train)')
    .option('--seed <n>', 'random seed (split, subsample, folds)')
    .option(
      '--max-examples <n>',
      'score at most this many training examples (stratified subsample; default 500)',
    )
    .option('--on-bad-input <policy>', 'skip (count and report) | fail')
    .option('--cache-dir <dir>', 'feature cache directory (default ~/.cache/graft)')
    .option('--no-cache', 'do not read or write the feature cache')
    .option('--threads <n>', 'ONNX Runtime intra-op threads')
    .option('--json [file]', 'print the result as JSON, or write it to a file')
    .option('--quiet', 'no progress output')
    .action(async (data: string, f: RankFlags) => {
      const models = f.models
        ?.split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      const result = await rank({
        data,
        models,
        shots: number('shots', f.shots, { integer: true, min: 2 }),
        valSplit: number('val-split', f.valSplit, { min: 0 }),
        testSplit: number('test-split', f.testSplit, { min: 0 }),
        seed: number('seed', f.seed, { integer: true }),
        maxExamples: number('max-examples', f.maxExamples, { integer: true, min: 4 }),
        onBadInput: choice('on-bad-input', f.onBadInput, ['skip', 'fail'] as const),
        cacheDir: f.cache ? f.cacheDir : false,
        threads: number('threads', f.threads, { integer: true, min: 1 }),
        onCandidate:
          f.quiet || f.json === true
            ? undefined
            : (c) =>
                process.stderr.write(
                  `› ${c.model} ${c.feature}: k-NN ${(c.knnAccuracy * 100).toFixed(1)}%, LogME ${c.logme.toFixed(4)} (${seconds(c)})\n`,
                ),
      });
      if (typeof f.json === 'string') await writeFileAtomic(f.json, `${JSON.stringify(result, null, 2)}\n`);
      if (f.json === true) printJson(result);
      else process.stdout.write(`${formatRank(result)}\n`);
      const skips = new SkipSummary();
      skips.add(result.warnings);
      skips.print();
    });
}
