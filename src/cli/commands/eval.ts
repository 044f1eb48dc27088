/** `graft eval <model-dir> <data>`: evaluate a trained model on a labelled data set. */
import type { Command } from 'commander';
import { loadDataset } from '../../data/load.js';
import { evaluateDataset } from '../../eval/evaluate-dataset.js';
import { formatReport } from '../../eval/report.js';
import { load } from '../../predict/classifier.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { choice, number } from '../parse.js';
import { printJson } from '../output.js';
import { progressBar } from '../progress.js';
import { SkipSummary } from '../skip-summary.js';

interface EvalFlags {
  out?: string;
  json?: boolean;
  batchSize?: string;
  onBadInput?: string;
  int8?: boolean;
  quiet?: boolean;
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
    .option('--quiet', 'no progress bar (skipped inputs are still summarised in one line on stderr)')
    .action(async (dir: string, data: string, f: EvalFlags) => {
      const clf = await load(dir, { int8: f.int8 });
      try {
        const onBadInput = choice('on-bad-input', f.onBadInput, ['skip', 'fail'] as const);
        const ds = await loadDataset(data, { onBadInput });
        const skips = new SkipSummary();
        skips.add(ds.warnings);
        const bar = progressBar('evaluating', f.json || f.quiet);
        const { report, warnings } = await evaluateDataset(clf, ds, {
          batchSize: number('batch-size', f.batchSize, { integer: true, min: 1 }),
          onBatch: bar.update,
          onBadInput,
        });
        bar.stop();
        skips.add(warnings);
        const labels = clf.labels;
        const json = { model: dir, data, labels, ...report, warnings: [...ds.warnings, ...warnings] };
        await writeFileAtomic(f.out ?? `${dir}/eval.json`, `${JSON.stringify(json, null, 2)}\n`);
        if (f.json) printJson(json);
        else process.stdout.write(`${formatReport(report, [...labels])}\n`);
        skips.print();
      } finally {
        await clf.release();
      }
    });
}
