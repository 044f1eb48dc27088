/**
 * Child process of kill-resume.test.ts: one small fine-tuning run through the public API, checkpointing every
 * optimizer step into <out>/checkpoints. argv: image|text <out> <kill at step, or -> [resume] [<backbone source>]
 * With a kill step, the child SIGKILLs itself as soon as it sees checkpoint-<≥ step> appear (no cleanup runs).
 */
import { fineTuneClassifier } from '../../src/pipeline/finetune.js';
import { trainTextClassifier } from '../../src/pipeline/train-text.js';
import '../../src/text/index.js';
import { BERT_SOURCE } from '../text/helpers.js';
import { killAtCheckpoint } from './kill-harness.js';
import { digits, sentences } from './resume-fixtures.js';

const [kind, out, killAt, resume, backbone] = process.argv.slice(2) as [
  'image' | 'text',
  string,
  string,
  string | undefined,
  string | undefined,
];

if (killAt !== '-') killAtCheckpoint(out, Number(killAt));

if (kind === 'image') {
  // LP-FT with an MLP head: two phases (head only, then everything), killed in either
  await fineTuneClassifier({
    data: digits(),
    model: backbone!,
    strategy: 'lp-ft',
    head: 'mlp',
    hidden: [8],
    features: 'final',
    unfreeze: 'all',
    freezeEpochs: 1,
    epochs: 2,
    batchSize: 4,
    lr: 1e-2,
    bnMode: 'train',
    augment: true,
    seed: 9,
    saveSteps: 1,
    saveTotalLimit: 100,
    threads: 1,
    cacheDir: false,
    out,
    ...(resume ? { resume: true } : {}),
  });
} else {
  // LP-FT with an MLP head too: the same two phases through the same recipe runner
  await trainTextClassifier({
    data: sentences(),
    model: BERT_SOURCE,
    strategy: 'lp-ft',
    head: 'mlp',
    freezeEpochs: 1,
    dropout: 0.1,
    threads: 1,
    valSplit: 0.2,
    args: {
      outputDir: out,
      numTrainEpochs: 3,
      perDeviceTrainBatchSize: 4,
      learningRate: 5e-3,
      warmupSteps: 2,
      saveSteps: 1,
      seed: 5,
      maxSeqLength: 8,
      ...(resume ? { resumeFromCheckpoint: true } : {}),
    },
  });
}
process.stdout.write('done\n');
