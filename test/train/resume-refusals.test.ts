/**
 * One resume semantic through the public API, for images and text: nothing to resume from is BAD_OPTION naming
 * the directory (before any training), and a checkpoint written with other options is BAD_OPTION naming them.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { refuseUnusedOptions } from '../../src/pipeline/option-scope.js';
import { isGraftError } from '../../src/errors.js';
import { fineTuneClassifier } from '../../src/pipeline/finetune.js';
import type { FineTuneClassifierOptions } from '../../src/pipeline/finetune-options.js';
import { trainTextClassifier, type TrainTextClassifierOptions } from '../../src/pipeline/train-text.js';
import '../../src/text/index.js';
import { tinyBackbone } from '../scale/fixtures.js';
import { BERT_SOURCE } from '../text/helpers.js';
import { digits, sentences } from './resume-fixtures.js';

let root: string;
let backbone: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'graft-resume-'));
  backbone = await tinyBackbone(join(root, 'backbone'));
});
after(() => rm(root, { recursive: true, force: true }));

const image = (out: string, o: Partial<FineTuneClassifierOptions> = {}) =>
  fineTuneClassifier({
    data: digits(),
    model: backbone,
    strategy: 'fine-tune',
    features: 'final',
    unfreeze: 'all',
    epochs: 1,
    batchSize: 8,
    threads: 1,
    cacheDir: false,
    out,
    ...o,
  });

const text = (outputDir: string, args: Partial<TrainTextClassifierOptions['args']> = {}) =>
  trainTextClassifier({
    data: sentences(),
    model: BERT_SOURCE,
    threads: 1,
    export: false,
    args: {
      outputDir,
      numTrainEpochs: 1,
      perDeviceTrainBatchSize: 8,
      saveSteps: 1,
      maxSeqLength: 8,
      ...args,
    },
  });

const nothingToResume = (dir: string) => (e: unknown) =>
  isGraftError(e, 'BAD_OPTION') && /nothing to resume/.test(e.message) && e.message.includes(dir);

test('image: --resume with nothing to resume from is BAD_OPTION, and nothing is written', async () => {
  const out = join(root, 'image-empty');
  await assert.rejects(image(out, { resume: true }), nothingToResume(join(out, 'checkpoints')));
  assert.deepEqual(await readdir(out).catch(() => []), []);
});

test('text: resume with nothing to resume from is BAD_OPTION', async () => {
  const out = join(root, 'text-empty');
  await assert.rejects(text(out, { resumeFromCheckpoint: true }), nothingToResume(join(out, 'checkpoints')));
});

test('image: resuming with another learning rate is refused, naming it', async () => {
  const out = join(root, 'image-run');
  await image(out, { lr: 1e-3 });
  await image(out, { lr: 1e-3, resume: true }); // the same options resume (from the last checkpoint)
  await assert.rejects(
    image(out, { lr: 1e-2, resume: true }),
    (e) =>
      isGraftError(e, 'BAD_OPTION') && /phases=.*"lr":0\.001.*where this run has.*"lr":0\.01/.test(e.message),
  );
});

test('text: resuming with another learning rate is refused, naming it', async () => {
  const out = join(root, 'text-run');
  await text(out, { learningRate: 1e-3 });
  await assert.rejects(
    text(out, { learningRate: 1e-2, resumeFromCheckpoint: true }),
    (e) => isGraftError(e, 'BAD_OPTION') && /lr=0\.001 where this run has 0\.01/.test(e.message),
  );
});

test('runs that train a head on cached features refuse checkpoint options instead of dropping them', async () => {
  for (const [args, flag] of [
    [{ resumeFromCheckpoint: true }, '--resume'],
    [{ saveSteps: 5 }, '--save-steps'],
  ] as const)
    await assert.rejects(
      trainTextClassifier({
        data: sentences(),
        model: 'tfidf',
        export: false,
        args: { outputDir: join(root, 'tfidf'), ...args },
      }),
      (e) => isGraftError(e, 'BAD_OPTION') && e.message.includes(flag),
    );
  assert.throws(
    () => refuseUnusedOptions({ modality: 'image', strategy: 'auto' }, { resume: true, saveTotalLimit: '2' }),
    (e) => isGraftError(e, 'BAD_OPTION') && /^--resume, --save-total-limit: .*no checkpoints/.test(e.message),
  );
  refuseUnusedOptions({ modality: 'image', strategy: 'lp-ft' }, { resume: true, saveTotalLimit: '2' });
});
