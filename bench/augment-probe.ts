/**
 * Feature-level augmentation for probes, measured: a linear head (L-BFGS, as `graft train` fits it) on one
 * feature of the default backbone, fitted on the plain training features, on them plus K augmented views per
 * image as extra rows, and on the per-image mean of the image and its K views. Held-out rows are never augmented.
 * Each variant is scored on the test split and by cross-validation on the training split (views stay in their
 * image's fold), so the table also shows whether cross-validation would pick the variant that tests better.
 *
 *   node --import tsx bench/augment-probe.ts [--shots 10,100] [--seeds 0,1] [--views 4] \
 *     [--feature block_12_add@2x2] [--scale 0.5]
 *
 * Data: the builtin `mnist` with the demo's split (10% held out as the test split, no validation split), k shots
 * per class sampled from the rest with each seed. Views use the default augmentation (augment/image.ts) with the
 * crop scale range [--scale, 1]. Not a timing benchmark.
 */
import { parseArgs } from 'node:util';
import { wilsonInterval } from '../src/eval/interval.js';
import { evaluate } from '../src/eval/report.js';
import { withViews, type MatrixViews, type ViewUse } from '../src/features/view-matrix.js';
import { loadBackbone } from '../src/models/registry.js';
import { extractSource, sourceMatrix, sourceViews } from '../src/pipeline/feature-sources.js';
import { prepareImageData } from '../src/pipeline/image-data.js';
import { resolveTrainOptions } from '../src/pipeline/options.js';
import { headOptions } from '../src/pipeline/train.js';
import { fitHead } from '../src/heads/fitted.js';
import { crossValidate, foldCount } from '../src/strategies/select-features.js';

const { values } = parseArgs({
  options: {
    shots: { type: 'string', default: '10,100' },
    seeds: { type: 'string', default: '0' },
    views: { type: 'string', default: '4' },
    feature: { type: 'string', default: 'block_12_add@2x2' },
    scale: { type: 'string', default: '0.5' },
  },
});
const K = Number(values.views);
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

interface Row {
  shots: number;
  seed: number;
  variant: string;
  cv: number;
  test: number;
  n: number;
}
const rows: Row[] = [];

for (const shots of values.shots.split(',').map(Number)) {
  for (const seed of values.seeds.split(',').map(Number)) {
    const o = resolveTrainOptions({ data: 'mnist', shots, valSplit: 0, testSplit: 0.1, seed });
    const { split, train, dataset } = await prepareImageData(o, () => {});
    const backbone = await loadBackbone(o.model, { examples: train.examples });
    const augment = { crop: { scale: [Number(values.scale), 1] as [number, number] } };
    const source = await extractSource(
      backbone,
      [values.feature],
      [...train.examples, ...split.test.examples],
      o,
      () => {},
      { examples: train.examples, count: K, seed, augment },
    );
    const trainIds = new Set(train.examples.map((e) => e.id));
    const testIds = new Set(split.test.examples.map((e) => e.id));
    const base = sourceMatrix(source, values.feature, trainIds);
    const test = sourceMatrix(source, values.feature, testIds);
    const numClasses = dataset.labels.length;
    const head = headOptions(o, 'linear');
    const variants: [string, MatrixViews | undefined][] = [['no augmentation', undefined]];
    for (const use of ['rows', 'mean'] as ViewUse[]) {
      const all = sourceViews(source, values.feature, trainIds, use)!;
      for (const k of [...new Set([Math.min(2, K), K])])
        variants.push([`${k} views as ${use}`, { use, matrices: all.matrices.slice(0, k) }]);
    }
    for (const [variant, views] of variants) {
      const cv = await crossValidate(base, numClasses, head, foldCount(base.labels), views);
      const fitted = await fitHead(withViews(base, views), numClasses, head);
      const report = evaluate(await fitted.predictProbs(test), test.labels);
      await fitted.release();
      rows.push({ shots, seed, variant, cv, test: report.accuracy, n: test.labels.length });
      process.stderr.write(
        `${shots} shots, seed ${seed}, ${variant}: CV ${pct(cv)}, test ${pct(report.accuracy)}\n`,
      );
    }
  }
}

const lines = [
  `| shots | variant (${values.feature}, crop scale [${values.scale}, 1]) | seed | CV on training split | test accuracy (95% Wilson) |`,
  '|---|---|---|---|---|',
];
for (const r of rows) {
  const { low, high } = wilsonInterval(Math.round(r.test * r.n), r.n);
  lines.push(
    `| ${r.shots} | ${r.variant} | ${r.seed} | ${pct(r.cv)} | ${pct(r.test)} (${pct(low)}–${pct(high)}, n=${r.n}) |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
