/**
 * `graft demo`: offline transfer learning on real data. MNIST k-shot on the MobileNetV2 shipped by nsfwjs:
 * raw-pixel baseline vs final-layer features vs the cut chosen by cross-validation, all on the same held-out
 * digits; then the saved model predicts a few of them.
 */
import type { Command } from 'commander';
import type { RawImage } from '../../preprocess/image-types.js';
import { formatFineTuneDemo, runFineTuneDemo } from '../../pipeline/demo-finetune.js';
import { trainClassifier } from '../../pipeline/train.js';
import { load } from '../../predict/classifier.js';
import { loadDataset } from '../../data/load.js';
import { stratifiedSplit } from '../../data/split.js';
import { number } from '../parse.js';
import { commandSignal } from '../cancel.js';
import { cancellable, eventRenderer } from '../progress.js';
import { bold, printJson, table } from '../output.js';
import { printTrainSummary, summarize } from './train.js';

interface DemoFlags {
  fineTune?: boolean;
  shots?: string;
  out: string;
  seed?: string;
  json?: boolean;
  quiet?: boolean;
}

const SPLIT = { validation: 0, test: 0.1 };

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('offline demo: a 10-shot MNIST digit classifier on MobileNetV2, with honest baselines')
    .option('--shots <k>', 'training digits per class', '10')
    .option('--seed <n>', 'random seed', '0')
    .option('--out <dir>', 'where to save the model', './graft-demo-model')
    .option('--json', 'print the result as JSON')
    .option('--quiet', 'no progress output')
    .option('--fine-tune', 'instead: linear probe vs LP-FT fine-tuning vs from scratch, at 10 and 100 shots')
    .action(async (f: DemoFlags) => {
      const seed = number('seed', f.seed, { integer: true })!;
      if (f.fineTune) {
        const rows = await runFineTuneDemo({
          seed,
          onProgress: f.quiet ? undefined : (m) => process.stderr.write(`› ${m}\n`),
        });
        if (f.json) return printJson(rows);
        process.stdout.write(`${formatFineTuneDemo(rows)}\n`);
        return;
      }
      const result = await trainClassifier({
        data: 'mnist',
        shots: number('shots', f.shots, { integer: true, min: 2 }),
        valSplit: SPLIT.validation,
        testSplit: SPLIT.test,
        seed,
        out: f.out,
        onEvent: cancellable(eventRenderer({ quiet: f.quiet, jsonLines: f.json })),
        signal: commandSignal(),
      });
      // A few held-out digits (the same test split the evaluation used), predicted by the saved model.
      const held = stratifiedSplit(await loadDataset('mnist'), { ...SPLIT, seed }).test.examples;
      const test = Array.from({ length: 10 }, (_, i) => held[Math.floor(((i + 0.5) * held.length) / 10)]!);
      const clf = await load(f.out);
      const preds = await clf.predict(
        test.map((e) => e.source as RawImage),
        { topK: 2 },
      );
      await clf.release();
      const rows = test.map((e, i) => [
        e.id,
        result.labels[e.label]!,
        `${preds[i]!.label} (${(preds[i]!.probability * 100).toFixed(1)}%)`,
      ]);
      if (f.json) return printJson({ ...summarize(result), predictions: rows });
      printTrainSummary(result);
      process.stdout.write(`\n${bold('Predictions by the saved model on held-out digits')}\n`);
      process.stdout.write(`${table(['digit', 'true', 'predicted'], rows)}\n`);
    });
}
