/** The batch form of `graft predict`: a manifest in, predictions.jsonl out, here or on workers via --queue. */
import { Option } from 'commander';
import { GraftError } from '../../errors.js';
import { predictManifest } from '../../scale/predict-batch.js';
import { isManifest } from '../../scale/inputs.js';
import { choice, number } from '../parse.js';
import { green, printJson } from '../output.js';
import { scaleRenderer } from '../scale-progress.js';

export interface BatchPredictFlags {
  queue?: string;
  out?: string;
  shardSize?: string;
  onBadInput?: string;
  top?: string;
  text?: boolean;
  json?: boolean;
}

/** The options the batch form adds to `graft predict`. */
export const batchPredictFlags = {
  out: new Option(
    '--out <file>',
    'write predictions.jsonl for a .csv/.jsonl manifest (input order, written once at the end)',
  ),
  queue: new Option(
    '--queue <url>',
    'redis://host:port: shard the manifest for `graft worker`s (default --out predictions.jsonl)',
  ),
  shardSize: new Option('--shard-size <n>', 'inputs per shard with --out / --queue (default 256)'),
  onBadInput: new Option(
    '--on-bad-input <policy>',
    'with --out / --queue: skip (error row) | fail (the shard fails naming the input)',
  ),
};

/** True when the flags ask for the batch form (which then ran); false leaves the command to predict inline. */
export async function runBatchPredict(
  dir: string,
  inputs: readonly string[],
  f: BatchPredictFlags,
): Promise<boolean> {
  if (!f.queue && !f.out) {
    if (f.shardSize || f.onBadInput)
      throw new GraftError('BAD_OPTION', '--shard-size and --on-bad-input apply to --out / --queue runs');
    return false;
  }
  if (inputs.length !== 1 || !isManifest(inputs[0]!))
    throw new GraftError(
      'BAD_OPTION',
      '--out and --queue take one .csv/.jsonl manifest with a path or text column',
    );
  if (f.text)
    throw new GraftError(
      'BAD_OPTION',
      "--text does not apply to a manifest: its 'text' column holds the texts",
    );
  const r = await predictManifest({
    modelDir: dir,
    manifest: inputs[0]!,
    out: f.out,
    queue: f.queue,
    topK: number('top', f.top, { integer: true, min: 1 }),
    shardSize: number('shard-size', f.shardSize, { integer: true, min: 1 }),
    onBadInput: choice('on-bad-input', f.onBadInput, ['skip', 'fail'] as const),
    onEvent: scaleRenderer({ jsonLines: f.json }),
  });
  if (f.json) printJson(r);
  else
    process.stdout.write(
      `${green('wrote')} ${r.out}: ${r.rows} rows (${r.errors} with errors), ${r.shards} shards, ${r.seconds.toFixed(1)} s\n`,
    );
  return true;
}
