/**
 * Model directories are written whole: SIGKILL at random points of a write never leaves model.onnx of one model
 * beside graft.json of another, checkpoints survive the replacement, and `load()` refuses a model.onnx that does
 * not belong with its graft.json (CORRUPT_MODEL) instead of answering with the wrong labels.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isGraftError } from '../../src/errors.js';
import { MANIFEST_FILE, MODEL_FILE, recoverModelDir } from '../../src/export/manifest.js';
import { load } from '../../src/predict/classifier.js';
import { plainPng } from './inputs.js';
import { fixtureParts, writeFixtureDir } from './model-fixture.js';

const CHILD = fileURLToPath(new URL('./child-write-model.mjs', import.meta.url));
let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'graft-hostile-dir-'));
});
after(() => rm(root, { recursive: true, force: true }));

/** Loads `dir` and predicts one image: the labels it answers with, or the error. */
async function use(dir: string): Promise<string[]> {
  const clf = await load(dir);
  try {
    const [p] = await clf.predict([plainPng(12, 10)], { topK: 10 });
    assert.equal(p!.top.length, clf.labels.length, 'one probability per label');
    return [...clf.labels];
  } finally {
    await clf.release();
  }
}

/** Runs the writing child and SIGKILLs it `ms` after it started writing. */
async function killWriterAfter(out: string, ms: number): Promise<void> {
  const child = spawn(process.execPath, [CHILD, root, out], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('writing') && resolve());
    child.once('exit', (code) => reject(new Error(`writer exited early (${code})`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  await new Promise((r) => setTimeout(r, ms));
  child.kill('SIGKILL');
  await exited;
}

test('SIGKILL at random points of a model-directory write never tears it', { timeout: 600_000 }, async () => {
  const out = join(root, 'model');
  await writeFixtureDir(root, out, ['ant', 'bee']);
  for (const labels of [
    ['ant', 'bee'],
    ['cat', 'dog', 'eel'],
  ]) {
    const { fields } = await fixtureParts(root, labels);
    await writeFile(join(root, `fields-${labels.length}.json`), JSON.stringify(fields));
  }
  const seen = new Set<string>();
  let checkpoints = 0;
  let seed = 12345;
  for (let round = 0; round < 10; round++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    await killWriterAfter(out, 5 + (seed % 400));
    const labels = await use(out);
    assert.ok(
      ['ant,bee', 'cat,dog,eel'].includes(labels.join()),
      `round ${round}: labels ${labels.join()} are one model's`,
    );
    seen.add(labels.join());
    const now = (await readdir(join(out, 'checkpoints')).catch(() => [])).length;
    assert.ok(now >= checkpoints, `round ${round}: checkpoints kept (${now} after ${checkpoints})`);
    checkpoints = now;
  }
  await recoverModelDir(out);
  const left = (await readdir(dirname(out))).filter((e) => e.includes('.graft-'));
  assert.deepEqual(left, [], 'no staging or old directories left after recovery');
  assert.ok(checkpoints > 0);
  assert.ok(seen.size >= 1);
});

test('a model.onnx that does not belong with graft.json is CORRUPT_MODEL, not wrong answers', async () => {
  const two = join(root, 'two');
  const three = join(root, 'three');
  await writeFixtureDir(root, two, ['ant', 'bee']);
  await writeFixtureDir(root, three, ['cat', 'dog', 'eel']);
  assert.deepEqual(await use(two), ['ant', 'bee']);

  const expectCorrupt = async (what: string, pattern: RegExp): Promise<void> => {
    await assert.rejects(
      use(two),
      (e: unknown) => isGraftError(e, 'CORRUPT_MODEL') && pattern.test(e.message),
      what,
    );
  };
  const manifest = JSON.parse(await readFile(join(two, MANIFEST_FILE), 'utf8')) as Record<string, unknown>;
  const rewrite = (m: Record<string, unknown>) => writeFile(join(two, MANIFEST_FILE), JSON.stringify(m));

  // the torn state the issue found: the new run's model.onnx beside the old run's graft.json
  await copyFile(join(three, MODEL_FILE), join(two, MODEL_FILE));
  await expectCorrupt('model.onnx from another model', /sha256/);
  const { modelSha256: _hash, ...withoutHash } = manifest;
  await rewrite(withoutHash);
  await expectCorrupt('no hash to compare: the metadata labels disagree', /3 labels/);

  // graft.json edited to list fewer or more labels than the model scores (model.onnx itself intact)
  const fixture = join(root, 'fixture-2', MODEL_FILE);
  await copyFile(fixture, join(two, MODEL_FILE)); // written without graft metadata, as older graft did
  await rewrite({ ...withoutHash, labels: ['ant'] });
  await expectCorrupt('fewer labels than outputs', /scores 2 classes, graft.json lists 1/);
  await rewrite({ ...withoutHash, labels: ['ant', 'bee', 'cow'] });
  await expectCorrupt('more labels than outputs', /scores 2 classes, graft.json lists 3/);
  await rewrite({ ...withoutHash, labels: ['ant', 'bee'] });
  assert.deepEqual(await use(two), ['ant', 'bee'], 'a model without graft metadata still loads');
});
