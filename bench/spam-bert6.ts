/**
 * A 6-layer d=384 BERT classifier for spam-assassin, made offline, and its int8 copy measured against it.
 *
 * No pre-trained text encoder can be had here, so the encoder is bench/peers/text_bert.py's architecture with a
 * WordPiece vocabulary made from the spam-assassin training split (graft's own split: seed 0, 10% validation,
 * 10% test), seeded random weights, and then every weight trained by `graft train --strategy fine-tune` on that
 * split. Stages (all by default, in order):
 *
 *   encoder  write the training split's texts, run text_bert.py --vocab-texts (into <out>.encoder/)
 *   train    graft train spam-assassin --model file:<out>.encoder --strategy fine-tune … --out <out>
 *   quantize graft quantize <out> (dynamic int8, the default for text models; the guard on)
 *   measure  fp32 vs int8 through load(): accuracy on the whole held-out test split, and sequences/s over
 *            --rounds alternating rounds in this one process (ratio of medians and per-round ratios), end to
 *            end (tokenising included) and for the model alone (the same pre-tokenised batches, session runs)
 *
 *   node --import tsx bench/spam-bert6.ts --out /work/artifacts/spam-bert6 [--stage all] [--vocab 8192]
 *     [--max-seq-length 64] [--epochs 1] [--batch-size 32] [--lr 2e-4] [--threads 2] [--rounds 3]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { main as graft } from '../src/cli/main.js';
import { loadDataset } from '../src/data/load.js';
import { SPLIT_DEFAULTS, stratifiedSplit } from '../src/data/split.js';
import type { Example } from '../src/data/types.js';
import { load } from '../src/predict/classifier.js';
import { encodeInputs } from '../src/predict/inputs.js';
import { openModelDir } from '../src/predict/model-dir.js';
import type { Tensor } from '../src/tensor.js';
import { PEERS } from './text-common.js';
import { pairedRatios, showSpread } from './util/rounds.js';
import { median, PYTHON } from './util/stats.js';

const { values: a } = parseArgs({
  options: {
    out: { type: 'string' },
    stage: { type: 'string', default: 'all' },
    vocab: { type: 'string', default: '8192' },
    'max-seq-length': { type: 'string', default: '64' },
    epochs: { type: 'string', default: '1' },
    'batch-size': { type: 'string', default: '32' },
    lr: { type: 'string', default: '2e-4' },
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
  },
});
if (!a.out) throw new Error('--out <dir> is required');
const out = a.out;
const encoderDir = `${out}.encoder`;
const stages = a.stage === 'all' ? ['encoder', 'train', 'quantize', 'measure'] : a.stage!.split(',');
const load1 = () => loadavg()[0]!.toFixed(1);

async function cli(args: string[]): Promise<void> {
  console.log(`$ graft ${args.join(' ')}   (load average ${load1()})`);
  const code = await graft(['node', 'graft', ...args]);
  if (code !== 0) throw new Error(`graft ${args[0]} exited with ${code}`);
}

/** graft's own split of spam-assassin, exactly as `graft train spam-assassin` makes it. */
async function split() {
  const ds = await loadDataset('spam-assassin');
  if (ds.kind !== 'text') throw new Error('spam-assassin is not a text data set');
  return stratifiedSplit(ds, { ...SPLIT_DEFAULTS });
}

async function encoderStage(): Promise<void> {
  const s = await split();
  mkdirSync(encoderDir, { recursive: true });
  const texts = join(encoderDir, 'train-texts.jsonl');
  writeFileSync(texts, s.train.examples.map((e) => JSON.stringify(e.source)).join('\n') + '\n');
  execFileSync(
    PYTHON,
    [join(PEERS, 'text_bert.py'), encoderDir, '--vocab-texts', texts, '--vocab-size', a.vocab!],
    { stdio: 'inherit' },
  );
  console.log(`encoder: ${encoderDir} (${s.train.examples.length} training texts, vocabulary ${a.vocab})`);
}

async function trainStage(): Promise<void> {
  if (!existsSync(join(encoderDir, 'onnx', 'model.onnx'))) throw new Error(`no encoder in ${encoderDir}`);
  const t0 = performance.now();
  await cli([
    'train',
    'spam-assassin',
    ...['--model', `file:${encoderDir}`, '--strategy', 'fine-tune'],
    ...['--max-seq-length', a['max-seq-length']!, '--epochs', a.epochs!, '--batch-size', a['batch-size']!],
    ...['--lr', a.lr!, '--warmup-ratio', '0.1', '--weight-decay', '0.01', '--threads', a.threads!],
    ...['--logging-steps', '20', '--save-steps', '50', '--save-total-limit', '1'],
    ...['--out', out],
  ]);
  console.log(`trained in ${((performance.now() - t0) / 1000).toFixed(0)} s (load average ${load1()})`);
}

async function measureStage(): Promise<void> {
  const test = (await split()).test.examples as readonly Example<string>[];
  const inputs = test.map((e) => ({ text: e.source }));
  const threads = Number(a.threads);
  const sides = {
    fp32: await load(out, { threads }),
    int8: await load(out, { threads, int8: true }),
  };
  const accuracy = {} as Record<'fp32' | 'int8', number>;
  const rate = { fp32: [] as number[], int8: [] as number[] };
  const names = ['fp32', 'int8'] as const;
  for (const n of names) {
    // Warm-up and accuracy: one pass over the whole test split each.
    const p = await sides[n].predict(inputs);
    accuracy[n] = p.filter((x, i) => x.label === sides[n].labels[test[i]!.label]).length / test.length;
  }
  for (let r = 0; r < Number(a.rounds); r++) {
    for (const n of r % 2 === 0 ? names : ([...names].reverse() as ['int8', 'fp32'])) {
      const t = performance.now();
      await sides[n].predict(inputs);
      rate[n].push(test.length / ((performance.now() - t) / 1000));
    }
    console.log(
      `round ${r + 1}: fp32 ${rate.fp32[r]!.toFixed(1)}, int8 ${rate.int8[r]!.toFixed(1)} sequences/s (load average ${load1()})`,
    );
  }
  for (const s of Object.values(sides)) await s.release();

  // The model alone: the same batches tokenised once, then only ONNX Runtime's runs are timed.
  const t0 = performance.now();
  const manifest = (await openModelDir(out, { threads })).manifest;
  const batches: Record<string, Tensor>[] = [];
  for (let i = 0; i < inputs.length; i += 32)
    batches.push(await encodeInputs(inputs.slice(i, i + 32), manifest, out));
  const tokenising = (performance.now() - t0) / 1000;
  const runs = {
    fp32: (await openModelDir(out, { threads })).session,
    int8: (await openModelDir(out, { threads, int8: true })).session,
  };
  const model = { fp32: [] as number[], int8: [] as number[] };
  for (const n of names) for (const b of batches.slice(0, 2)) await runs[n].run(b, [manifest.output]);
  for (let r = 0; r < Number(a.rounds); r++) {
    for (const n of r % 2 === 0 ? names : ([...names].reverse() as ['int8', 'fp32'])) {
      const t = performance.now();
      for (const b of batches) await runs[n].run(b, [manifest.output]);
      model[n].push(test.length / ((performance.now() - t) / 1000));
    }
    console.log(
      `model alone, round ${r + 1}: fp32 ${model.fp32[r]!.toFixed(1)}, int8 ${model.int8[r]!.toFixed(1)} sequences/s (load average ${load1()})`,
    );
  }
  for (const s of Object.values(runs)) await s.release();
  console.log(
    `held-out test split: ${test.length} e-mails, max ${a['max-seq-length']} tokens, batch 32, ${threads} threads`,
  );
  console.log(
    `accuracy fp32 ${(100 * accuracy.fp32).toFixed(2)}%, int8 ${(100 * accuracy.int8).toFixed(2)}% ` +
      `(drop ${(100 * (accuracy.fp32 - accuracy.int8)).toFixed(2)} points)`,
  );
  const show = (what: string, xs: typeof rate) => {
    console.log(`${what}: sequences/s fp32 ${showSpread(xs.fp32)}, int8 ${showSpread(xs.int8)}`);
    console.log(
      `  ratio int8/fp32: ${(median(xs.int8) / median(xs.fp32)).toFixed(2)} of medians, per round ` +
        `${showSpread(pairedRatios(xs.int8, xs.fp32))}`,
    );
  };
  show('end to end (load + predict, tokenising included)', rate);
  show('model alone (pre-tokenised batches)', model);
  console.log(`tokenising the ${test.length} e-mails once: ${tokenising.toFixed(1)} s`);
}

for (const stage of stages) {
  if (stage === 'encoder') await encoderStage();
  else if (stage === 'train') await trainStage();
  else if (stage === 'quantize') await cli(['quantize', out, '--threads', a.threads!]);
  else if (stage === 'measure') await measureStage();
  else throw new Error(`unknown stage '${stage}'`);
}
