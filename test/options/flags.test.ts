/**
 * The option matrix, flag by flag: `graft train` driven in process (its registered command, as the binary runs
 * it) on a small image folder and a text CSV. Every flag that a modality × strategy × head would drop is refused
 * with BAD_OPTION naming the flag, why, and what to use instead — before any backbone is loaded. The rows are
 * printed as a table (GRAFT_FLAGS_TABLE=<file> also writes it). Flags that apply are accepted by the same table
 * (pipeline/option-scope.ts), checked without training.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Command } from 'commander';
import { registerTrain } from '../../src/cli/commands/train.js';
import { isGraftError } from '../../src/errors.js';
import { refuseUnusedOptions, type RunShape } from '../../src/pipeline/option-scope.js';
import { trainTextClassifier } from '../../src/pipeline/train-text.js';
import { colourFolder } from '../pipeline/fixtures.js';
import { BERT_SOURCE } from '../text/helpers.js';
import { scratchDir } from './fixtures.js';

let images = '';
let texts = '';
let root = '';
const rows: string[] = [];

before(async () => {
  images = await colourFolder(3);
  root = await scratchDir('graft-flags-');
  texts = join(root, 'texts.csv');
  const lines = [
    'text,label',
    ...Array.from({ length: 12 }, (_, i) => `word${i} ${i % 2 ? 'good' : 'bad'},${i % 2}`),
  ];
  await writeFile(texts, `${lines.join('\n')}\n`);
});

after(async () => {
  const table = ['| modality | flags | outcome |', '|---|---|---|', ...rows].join('\n');
  process.stdout.write(`\n${table}\n`);
  if (process.env['GRAFT_FLAGS_TABLE']) await writeFile(process.env['GRAFT_FLAGS_TABLE'], `${table}\n`);
});

/** Runs `graft train <data> …args` in process; resolves to the error it ends with (undefined: none). */
async function train(data: string, args: readonly string[]): Promise<unknown> {
  const program = new Command('graft').exitOverride();
  registerTrain(program);
  try {
    await program.parseAsync(['train', data, '--quiet', '--out', join(root, 'never'), ...args], {
      from: 'user',
    });
    return undefined;
  } catch (e) {
    return e;
  }
}

/** [args, the message it must be refused with]. */
const IMAGE: [string[], RegExp][] = [
  [
    ['--strategy', 'linear-probe', '--unfreeze', 'all'],
    /^--unfreeze: .*frozen features; use --strategy fine-tune, lp-ft or scratch$/,
  ],
  [['--bn-mode', 'train'], /^--bn-mode: .*frozen features; use --strategy fine-tune, lp-ft or scratch$/],
  [
    ['--strategy', 'linear-probe', '--layerwise-lr-decay', '0.7'],
    /^--layerwise-lr-decay: .*use --strategy fine-tune/,
  ],
  [
    ['--clip-grad-norm', '1', '--accumulate-steps', '2'],
    /^--clip-grad-norm: gradient clipping .*; --accumulate-steps: gradient accumulation .*use --strategy/,
  ],
  [['--strategy', 'fine-tune', '--freeze-epochs', '2'], /^--freeze-epochs: .*use --strategy lp-ft$/],
  [['--strategy', 'lp-ft', '--freeze-epochs', '2'], /^--freeze-epochs: .*L-BFGS probe.*use --head mlp/],
  [['--strategy', 'scratch', '--unfreeze', 'last:1'], /^--unfreeze: strategy scratch trains every weight/],
  [['--resume', '--save-steps', '5'], /^--save-steps, --resume: .*writes no checkpoints/],
  [['--augment'], /^--augment: .*with cached features use --augment-views K$/],
  [['--strategy', 'lp-ft', '--augment-views', '2'], /^--augment-views: .*fine-tuning takes --augment$/],
  [['--head', 'knn', '--epochs', '5', '--lr', '0.1'], /^--epochs, --lr: --head knn fits in closed form/],
  [['--head', 'ncm', '--optimizer', 'adam'], /^--optimizer: --head ncm fits in closed form/],
  [
    ['--head', 'linear', '--lr', '0.1', '--batch-size', '8', '--patience', '3'],
    /^--lr, --batch-size, --patience: .*L-BFGS.*use --optimizer adam, adamw or sgd/,
  ],
  [['--head', 'linear', '--hidden', '64'], /^--hidden: .*head is linear; use --head mlp/],
  [['--strategy', 'fine-tune', '--dropout', '0.3'], /^--dropout: .*head is linear; use --head mlp$/],
  [['--head', 'mlp', '--k', '3'], /^--k: .*neighbour count.*head is mlp/],
  [['--strategy', 'fine-tune', '--patience', '3'], /^--patience: fine-tuning runs all its epochs/],
  [['--strategy', 'fine-tune', '--no-baseline'], /^--no-baseline: fine-tuning reports no raw-pixel baseline/],
  [['--features', 'final', '--head', 'linear', '--budget', '1m'], /^--budget: .*searches nothing/],
  [
    ['--warmup-ratio', '0.1', '--pooling', 'mean'],
    /^--warmup-ratio: .*image data has no such setting.*--pooling/,
  ],
  [
    ['--strategy', 'fine-tune', '--features', 'final', '--cache-dir', '/tmp/x'],
    /^--cache-dir: this run reads and writes no feature cache/,
  ],
  [['--strategy', 'fine-tune', '--head', 'knn'], /^--head knn cannot be trained .*no gradient.*linear-probe/],
];

const TEXT: [string[], RegExp][] = [
  [
    ['--model', 'tfidf', '--warmup-ratio', '0.1', '--logging-steps', '5'],
    /^--warmup-ratio: .*frozen features; use --strategy fine-tune.*; --logging-steps: /,
  ],
  [
    ['--model', BERT_SOURCE, '--strategy', 'linear-probe', '--unfreeze', 'all', '--clip-grad-norm', '1'],
    /^--unfreeze: .*frozen features.*--clip-grad-norm: /,
  ],
  [
    ['--model', BERT_SOURCE, '--strategy', 'fine-tune', '--pooling', 'mean'],
    /^--pooling: .*CLS\/pooler state/,
  ],
  [['--model', 'tfidf', '--pooling', 'mean'], /^--pooling: tf-idf rows are not pooled/],
  [['--model', 'tfidf', '--max-seq-length', '32'], /^--max-seq-length: tf-idf counts every term/],
  [
    ['--model', 'tfidf', '--no-baseline'],
    /^--no-baseline: the tf-idf baseline is a candidate of the text search only/,
  ],
  [['--model', BERT_SOURCE, '--strategy', 'scratch', '--unfreeze', 'top:1'], /^--unfreeze: strategy scratch/],
  [
    ['--model', BERT_SOURCE, '--strategy', 'lp-ft', '--freeze-epochs', '2'],
    /^--freeze-epochs: .*L-BFGS probe/,
  ],
  [['--model', 'tfidf', '--head', 'knn', '--epochs', '3'], /^--epochs: --head knn fits in closed form/],
  [['--model', 'tfidf', '--head', 'linear', '--lr', '0.1'], /^--lr: .*L-BFGS.*--optimizer adam.*--head mlp$/],
  [['--model', 'tfidf', '--head', 'linear', '--dropout', '0.1'], /^--dropout: .*head is linear/],
  [
    ['--model', 'tfidf', '--bn-mode', 'train', '--augment'],
    /^--bn-mode: .*text data has no such setting.*--augment: /,
  ],
  [
    [
      '--model',
      BERT_SOURCE,
      '--strategy',
      'fine-tune',
      '--head',
      'mlp',
      '--hidden',
      '64',
      '--optimizer',
      'sgd',
    ],
    /^--hidden: .*tanh pooler.*; --optimizer: text fine-tuning steps with AdamW/,
  ],
  [
    ['--model', 'tfidf', '--features', 'final'],
    /^--features: text features are the pooled final encoder states/,
  ],
  [['--model', 'tfidf', '--cache-dir', '/tmp/x'], /^--cache-dir: .*tf-idf rows are computed/],
  [['--model', 'tfidf', '--budget', '1m', '--head', 'linear'], /^--budget: .*searches nothing/],
  [
    ['--model', BERT_SOURCE, '--strategy', 'fine-tune', '--eval-steps', '5'],
    /^evalSteps \(--eval-steps\) .* evaluationStrategy is 'no'/,
  ],
  [
    ['--model', BERT_SOURCE, '--strategy', 'fine-tune', '--warmup-steps', '2', '--warmup-ratio', '0.1'],
    /^warmupSteps \(--warmup-steps\) overrides warmupRatio/,
  ],
  [['--model', 'tfidf', '--eval-data', 'EVAL', '--val-split', '0.2'], /^--val-split \(valSplit\): evalData/],
];

for (const [modality, cases] of [
  ['image', IMAGE],
  ['text', TEXT],
] as const) {
  describe(`graft train on ${modality} data refuses the flags it would drop`, () => {
    for (const [args, pattern] of cases) {
      const shown = args.map((a) => (a === BERT_SOURCE ? 'file:tiny-bert' : a)).join(' ');
      test(shown, async () => {
        const given = args.map((a) => (a === 'EVAL' ? texts : a));
        const error = await train(modality === 'image' ? images : texts, given);
        assert.ok(isGraftError(error, 'BAD_OPTION'), `${shown}: ${String(error)}`);
        assert.match(error.message, pattern);
        rows.push(`| ${modality} | \`${shown}\` | BAD_OPTION: ${error.message.replaceAll('|', '\\|')} |`);
      });
    }
  });
}

test('text heads on frozen features take the head options images take', async () => {
  const r = await trainTextClassifier({
    data: texts,
    model: 'tfidf',
    head: 'mlp',
    hidden: [7],
    optimizer: 'sgd',
    patience: 0,
    shots: 4,
    valSplit: 0,
    testSplit: 0.25,
    cacheDir: false,
    args: { outputDir: join(root, 'text-mlp'), numTrainEpochs: 3 },
  });
  assert.deepEqual(r.manifest?.head['hidden'], [7]);
  assert.equal(r.counts.train, 8, '4 shots per class');
  assert.equal(r.history?.epochs.length, 3, 'patience 0: no early stopping');
  await assert.rejects(
    trainTextClassifier({
      data: texts,
      model: 'tfidf',
      head: 'knn',
      k: 50,
      export: false,
      args: { outputDir: root },
    }),
    (e: unknown) => isGraftError(e, 'BAD_OPTION') && /--k 50 is more neighbours/.test(e.message),
  );
});

test('flags that apply are accepted by the same table', () => {
  const accepted: [RunShape, Record<string, unknown>][] = [
    [
      { modality: 'image', strategy: 'auto' },
      { hidden: '64', k: '3', lr: '0.1', budget: '1m', augmentViews: '2' },
    ],
    [
      { modality: 'image', strategy: 'linear-probe', head: 'linear', optimizer: 'adam' },
      { lr: '0.1', patience: '3' },
    ],
    [
      { modality: 'image', strategy: 'lp-ft', head: 'mlp' },
      { freezeEpochs: '2', unfreeze: 'all', bnMode: 'train', augment: true, dropout: '0.3', resume: true },
    ],
    [
      { modality: 'image', strategy: 'scratch' },
      { unfreeze: 'all', clipGradNorm: '1', accumulateSteps: '2' },
    ],
    [
      { modality: 'text', strategy: 'fine-tune', model: BERT_SOURCE },
      { warmupRatio: '0.1', dropout: '0.1', maxSeqLength: '16', saveSteps: '5', unfreeze: 'top:1' },
    ],
    [
      { modality: 'text', strategy: 'auto' },
      { budget: '1m', baseline: false, pooling: 'mean', lr: '0.1' },
    ],
    [{ modality: 'text', strategy: 'linear-probe', model: BERT_SOURCE, head: 'mlp' }, { dropout: '0.1' }],
  ];
  for (const [shape, given] of accepted) refuseUnusedOptions(shape, given);
});
