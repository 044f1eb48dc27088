/** `graft extract <data> --model <id>`: features into the (shared) cache, here or on workers via --queue. */
import type { Command } from 'commander';
import { unreadableWarning } from '../../data/warnings.js';
import { extractFeatures } from '../../scale/extract.js';
import { choice, number } from '../parse.js';
import { green, printJson } from '../output.js';
import { scaleRenderer } from '../scale-progress.js';
import { SkipSummary } from '../skip-summary.js';

interface ExtractFlags {
  model?: string;
  features?: string;
  queue?: string;
  shardSize?: string;
  batchSize?: string;
  cacheDir?: string;
  threads?: string;
  attempts?: string;
  onBadInput?: string;
  int8?: boolean;
  calibrationExamples?: string;
  json?: boolean;
  quiet?: boolean;
}

export function registerExtract(program: Command): void {
  program
    .command('extract <data>')
    .description(
      'extract backbone features of every image into the feature cache (a manifest with a path column, or an image folder); ' +
        'with --queue, `graft worker`s do it',
    )
    .option('--model <id>', 'pre-trained backbone (default npm:nsfwjs/mobilenet_v2)')
    .option(
      '--features <tensor>',
      "'auto' (the cuts graft train cross-validates; default), 'final', or a tensor name",
    )
    .option(
      '--queue <url>',
      'redis://host:port: split into shards for `graft worker`s instead of running here',
    )
    .option('--shard-size <n>', 'inputs per shard (default 256)')
    .option('--batch-size <n>', 'inputs per forward pass (default 32)')
    .option('--cache-dir <dir>', 'feature cache directory, shared by every machine (default ~/.cache/graft)')
    .option('--threads <n>', 'ONNX Runtime intra-op threads (runs on this machine)')
    .option('--attempts <n>', 'attempts per shard on the queue before it counts as failed (default 3)')
    .option('--on-bad-input <policy>', 'skip (count and report) | fail (the shard fails naming the file)')
    .option(
      '--int8',
      'extract through an int8 copy of the backbone prefix, calibrated on a fixed sample of the inputs and kept in the cache',
    )
    .option('--calibration-examples <n>', 'inputs the int8 prefix is calibrated on (default 256)')
    .option('--json', 'print the result as JSON (progress as JSON lines on stderr)')
    .option('--quiet', 'no progress output')
    .action(async (data: string, f: ExtractFlags) => {
      const r = await extractFeatures({
        data,
        model: f.model,
        features: f.features,
        queue: f.queue,
        shardSize: number('shard-size', f.shardSize, { integer: true, min: 1 }),
        batchSize: number('batch-size', f.batchSize, { integer: true, min: 1 }),
        cacheDir: f.cacheDir,
        threads: number('threads', f.threads, { integer: true, min: 1 }),
        attempts: number('attempts', f.attempts, { integer: true, min: 1 }),
        onBadInput: choice('on-bad-input', f.onBadInput, ['skip', 'fail'] as const),
        int8: f.int8,
        calibrationExamples: number('calibration-examples', f.calibrationExamples, {
          integer: true,
          min: 1,
        }),
        onEvent: scaleRenderer({ quiet: f.quiet, jsonLines: f.json }),
      });
      const skips = new SkipSummary();
      skips.add(r.warnings);
      skips.add(unreadableWarning(r.skipped));
      if (f.json) printJson(r);
      else
        process.stdout.write(
          `${green('extracted')} ${r.extracted} of ${r.unique} distinct inputs (${r.inputs} listed) in ${r.shards} shards ` +
            `(${r.alreadyDone} already done), ${skips.total} skipped, ${r.seconds.toFixed(1)} s\n` +
            `  cache ${r.cacheDir} (key ${r.cacheKey.slice(0, 12)}…; tensors ${r.tensors.join(', ')})\n` +
            (r.int8 ? `  int8 model ${r.int8.file}\n` : ''),
        );
      skips.print();
    });
}
