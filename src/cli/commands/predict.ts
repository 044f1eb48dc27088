/** `graft predict <model-dir> <inputs…>`: labels with probabilities for image files or texts. */
import type { Command } from 'commander';
import { GraftError } from '../../errors.js';
import { load, type PredictInput } from '../../predict/classifier.js';
import { number } from '../parse.js';
import { printJson, table } from '../output.js';
import { batchPredictFlags, runBatchPredict, type BatchPredictFlags } from './predict-batch.js';
import { modality } from '../../modalities/index.js';

interface PredictFlags extends BatchPredictFlags {
  top?: string;
  json?: boolean;
  text?: boolean;
  int8?: boolean;
}

export function registerPredict(program: Command): void {
  program
    .command('predict <model-dir> <inputs...>')
    .description('predict labels for image files (or, with --text, for texts)')
    .option('--top <k>', 'show the k most probable labels', '1')
    .option('--text', 'treat the inputs as texts (for text models)')
    .option('--int8', 'run model.int8.onnx (made by `graft quantize`)')
    .option('--json', 'print JSON')
    .addOption(batchPredictFlags.out)
    .addOption(batchPredictFlags.queue)
    .addOption(batchPredictFlags.shardSize)
    .addOption(batchPredictFlags.onBadInput)
    .action(async (dir: string, inputs: string[], f: PredictFlags) => {
      if (f.int8 && (f.out || f.queue))
        throw new GraftError(
          'BAD_OPTION',
          '--int8 applies to direct predictions; --out/--queue runs use model.onnx',
        );
      if (await runBatchPredict(dir, inputs, f)) return;
      const clf = await load(dir, { int8: f.int8 });
      try {
        const plugin = modality(clf.manifest.preprocess.kind);
        if (f.text && plugin.kind !== 'text')
          throw new GraftError(
            'BAD_OPTION',
            `--text treats the inputs as texts, and ${dir} is an image model: drop --text and give image files`,
          );
        if (inputs.length === 0) throw new GraftError('BAD_INPUT', 'nothing to predict');
        const items: PredictInput[] = inputs.map((arg) => plugin.argumentInput(arg));
        const topK = number('top', f.top, { integer: true, min: 1 })!;
        const preds = await clf.predict(items, { topK });
        if (f.json) return printJson(inputs.map((input, i) => ({ input, ...preds[i]! })));
        const rows = preds.map((p, i) => [
          inputs[i]!,
          p.top.map((t) => `${t.label} ${(t.probability * 100).toFixed(1)}%`).join(', '),
        ]);
        process.stdout.write(`${table(['input', 'prediction'], rows)}\n`);
      } finally {
        await clf.release();
      }
    });
}
