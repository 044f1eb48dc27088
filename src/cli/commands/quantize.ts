/** `graft quantize <model-dir>`: calibrated int8 post-training quantization; writes model.int8.onnx. */
import type { Command } from 'commander';
import { GraftError } from '../../errors.js';
import type { Int8Record } from '../../export/manifest.js';
import { CALIBRATION_METHODS } from '../../quantize/calibrate.js';
import { quantizeModelDir } from '../../quantize/model-dir.js';
import { QUANTIZE_MODES } from '../../quantize/quantize.js';
import { choice, number } from '../parse.js';
import { bold, green, printJson, table } from '../output.js';

interface QuantizeFlags {
  mode?: string;
  calibration?: string;
  method?: string;
  percentile?: string;
  perChannel: boolean;
  biasCorrection?: boolean;
  floatStem?: boolean;
  activationType?: string;
  exclude?: string;
  maxDrop?: string;
  calibrationExamples?: string;
  evalExamples?: string;
  threads?: string;
  json?: boolean;
  quiet?: boolean;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;

/** One line on model.int8.onnx for `graft train --int8`'s summary: size, held-out accuracies, nodes left in float. */
export function int8SummaryLine(r: Int8Record): string {
  const a = r.accuracy;
  const acc = a
    ? `: held-out fp32 ${pct(a.fp32)}, int8 ${pct(a.int8)} (drop ${a.drop.toFixed(2)} points${a.withinMaxDrop ? '' : ', over the limit'})`
    : ' (no held-out examples: accuracy not checked)';
  const floats = r.excluded.length > 0 ? `; ${r.excluded.length} node(s) left in float` : '';
  return `${green('saved')} ${r.file} (${mb(r.bytes)})${acc}${floats}\n`;
}

export function registerQuantize(program: Command): void {
  program
    .command('quantize <model-dir>')
    .description(
      'int8 post-training quantization: writes model.int8.onnx beside model.onnx (see README, "int8")',
    )
    .option('--calibration <data>', 'data to calibrate on (default: the training data named in graft.json)')
    .option(
      '--mode <m>',
      'static (calibrated QDQ; default for images) | dynamic (MatMul weights, activations at run time; default for text)',
    )
    .option('--method <name>', 'activation ranges: minmax (default) | percentile | entropy')
    .option('--percentile <p>', 'percentile of |x| kept by --method percentile (default 99.999)')
    .option('--per-channel', 'weights quantized per output channel (default)', true)
    .option('--no-per-channel', 'one weight scale per tensor')
    .option(
      '--no-bias-correction',
      'static: leave Conv biases as they are (default: each quantized Conv’s mean weight-rounding error is folded into its bias, Nagel et al. 2019)',
    )
    .option(
      '--no-float-stem',
      'static: quantize the image stem too (default: the Conv reading the ≤ 4-channel input stays float, faster and more accurate)',
    )
    .option('--activation-type <t>', 'uint8 (default: what ONNX Runtime runs on x86) | int8')
    .option('--exclude <nodes>', 'comma-separated node names to leave in float')
    .option('--max-drop <points>', 'largest held-out accuracy loss accepted, in points', '1')
    .option('--calibration-examples <n>', 'training examples to calibrate on', '256')
    .option('--eval-examples <n>', 'held-out examples for the accuracy guard (0: no guard)', '1000')
    .option('--threads <n>', 'ONNX Runtime intra-op threads')
    .option('--json', 'print the result as JSON')
    .option('--quiet', 'no progress output')
    .action(async (dir: string, f: QuantizeFlags) => {
      if (f.percentile !== undefined && f.method !== 'percentile')
        throw new GraftError(
          'BAD_OPTION',
          '--percentile applies to --method percentile only; add --method percentile',
        );
      const r = await quantizeModelDir(dir, {
        calibration: f.calibration,
        mode: choice('mode', f.mode, QUANTIZE_MODES),
        method: choice('method', f.method, CALIBRATION_METHODS),
        percentile: number('percentile', f.percentile, { min: 0 }),
        perChannel: f.perChannel,
        // On by default in static mode; only its refusal is passed on (dynamic mode has no Conv to correct).
        biasCorrection: f.biasCorrection === false ? false : undefined,
        floatStem: f.floatStem === false ? false : undefined,
        activationType: choice('activation-type', f.activationType, ['uint8', 'int8'] as const),
        exclude: f.exclude
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        maxDrop: number('max-drop', f.maxDrop, { min: 0 }),
        calibrationExamples: number('calibration-examples', f.calibrationExamples, { integer: true, min: 1 }),
        evalExamples: number('eval-examples', f.evalExamples, { integer: true, min: 0 }),
        threads: number('threads', f.threads, { integer: true, min: 1 }),
        onProgress: f.quiet || f.json ? undefined : (m) => process.stderr.write(`› ${m}\n`),
      });
      if (f.json) return printJson({ ...r.record, fp32Bytes: r.fp32Bytes, report: r.report });
      const out = process.stdout;
      const rep = r.report;
      out.write(
        `${green('saved')} ${r.file} (${mb(r.record.bytes)}, ${(r.fp32Bytes / r.record.bytes).toFixed(2)}× smaller than model.onnx)\n`,
      );
      out.write(
        `${rep.quantizedNodes} of ${rep.quantizableNodes} quantizable nodes in int8 (${rep.mode === 'static' ? `${rep.method} ranges` : 'dynamic: activation ranges on each run'}, weights ${rep.perChannel ? 'per channel' : 'per tensor'}); folded ${rep.prepare.foldedBatchNorms} BatchNormalization, ${rep.removedActivations.length} Relu/Clip absorbed\n`,
      );
      const a = r.record.accuracy;
      if (a) {
        const verdict = a.withinMaxDrop ? 'within --max-drop' : bold('over --max-drop');
        out.write(
          `held-out accuracy (${a.examples} examples): fp32 ${pct(a.fp32)}, int8 ${pct(a.int8)}, drop ${a.drop.toFixed(2)} points (${verdict})\n`,
        );
      }
      if (rep.excluded.length > 0) {
        out.write(`\n${bold('left in float')}\n`);
        out.write(
          `${table(
            ['node', 'op', 'why'],
            rep.excluded.map((e) => [e.node, e.opType, e.reason]),
          )}\n`,
        );
      }
    });
}
