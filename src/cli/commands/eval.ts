/** `graft eval <model-dir> <data>`: evaluate a trained model on a labelled data set. */
import type { Command } from 'commander';
import { loadDataset } from '../../data/load.js';
import { GraftError } from '../../errors.js';
import { evaluate, formatReport } from '../../eval/report.js';
import { load, type PredictInput } from '../../predict/classifier.js';
import { exampleInput } from '../../predict/inputs.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { choice, number } from '../parse.js';
import { printJson } from '../output.js';
import { progressBar } from '../progress.js';

interface EvalFlags {
  out?: string;
  json?: boolean;
  batchSize?: string;
  onBadInput?: string;
  int8?: boolean;
}

export function registerEval(program: Command): void {
  program
    .command('eval <model-dir> <data>')
    .description(
      'evaluate a trained model on labelled data (folder, .csv/.jsonl, mnist); prints a table, writes JSON',
    )
    .option('--out <file>', 'where to write the JSON report (default <model-dir>/eval.json)')
    .option('--batch-size <n>', 'inference batch size', '32')
    .option('--on-bad-input <policy>', 'skip | fail', 'skip')
    .option('--int8', 'evaluate model.int8.onnx (made by `graft quantize`)')
    .option('--json', 'print the JSON report instead of the table')
    .action(async (dir: string, data: string, f: EvalFlags) => {
      const clf = await load(dir, { int8: f.int8 });
      try {
        const onBadInput = choice('on-bad-input', f.onBadInput, ['skip', 'fail'] as const);
        const ds = await loadDataset(data, { onBadInput });
        const labels = clf.labels;
        const map = ds.labels.map((l) => labels.indexOf(l));
        const unknown = ds.labels.filter((_, i) => map[i]! < 0);
        if (unknown.length) {
          throw new GraftError(
            'BAD_INPUT',
            `labels not known to the model: ${unknown.join(', ')} (it knows ${labels.join(', ')})`,
          );
        }
        const inputs: PredictInput[] = ds.examples.map((e) => exampleInput(ds, e));
        const bar = progressBar('evaluating', f.json);
        const probs = await clf.predictProbs(inputs, {
          batchSize: number('batch-size', f.batchSize, { integer: true, min: 1 }),
          onBatch: bar.update,
        });
        bar.stop();
        const y = Int32Array.from(ds.examples, (e) => map[e.label]!);
        const report = evaluate(probs, y);
        const json = { model: dir, data, labels, ...report };
        await writeFileAtomic(f.out ?? `${dir}/eval.json`, `${JSON.stringify(json, null, 2)}\n`);
        if (f.json) printJson(json);
        else process.stdout.write(`${formatReport(report, [...labels])}\n`);
      } finally {
        await clf.release();
      }
    });
}
