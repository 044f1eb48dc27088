/**
 * What `graft train` (the automatic search, its defaults) reaches on real data, against the no-transfer
 * baseline and the previous default (a linear probe on the final features), all on the same held-out split.
 * Not a timing benchmark: accuracy per label.
 *
 *   node --import tsx bench/transfer-auto.ts [--shots 10,100] [--seeds 0] [--budget 300] [--val-split 0]
 *
 * Data: the builtin `mnist` (10,000 real digits) with the demo's split (10% held out as the test split, no
 * validation split), k shots per class sampled from the rest with each seed. With `--val-split` (e.g. 0.1) the
 * search also has a validation split, which its fine-tuning candidate (LP-FT) needs.
 */
import { parseArgs } from 'node:util';
import { trainClassifier } from '../src/pipeline/train.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      shots: { type: 'string', default: '10,100' },
      seeds: { type: 'string', default: '0' },
      budget: { type: 'string', default: '300' },
      'val-split': { type: 'string', default: '0' },
    },
  });
  const rows: string[] = [
    'shots  seed  auto    (chosen)                                          raw px  final  seconds  fine-tuning',
  ];
  for (const shots of values.shots.split(',').map(Number)) {
    for (const seed of values.seeds.split(',').map(Number)) {
      const r = await trainClassifier({
        data: 'mnist',
        shots,
        valSplit: Number(values['val-split']),
        testSplit: 0.1,
        seed,
        budget: Number(values.budget),
      });
      const find = (prefix: string) =>
        r.comparisons.find((c) => c.name.startsWith(prefix))?.report.accuracy ?? NaN;
      const pct = (v: number) => `${(v * 100).toFixed(1)}%`.padStart(6);
      rows.push(
        [
          String(shots).padEnd(5),
          String(seed).padEnd(4),
          pct(r.evaluation.accuracy),
          `(${r.head} on ${r.model === 'pixels' ? 'raw pixels' : r.featureTensor})`.padEnd(50),
          pct(find('raw pixels')),
          pct(find('final features')),
          r.seconds.total.toFixed(0).padStart(7),
          ` ${r.fineTuning?.skipped ?? (r.recipe === 'lp-ft' ? 'shipped' : r.fineTuning ? 'kept the probe' : '-')}`,
        ].join(' '),
      );
      process.stderr.write(`${rows.at(-1)}\n`);
    }
  }
  process.stdout.write(`${rows.join('\n')}\n`);
}

await main();
