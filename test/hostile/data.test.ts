/**
 * Hostile training data, at load and split time: every unusable input is a counted warning naming it (or
 * BAD_INPUT under onBadInput 'fail'), identical files are named and kept on one side of a split, links into
 * another class's folder do not relabel images, non-UTF-8 manifest rows and whitespace-only labels are not used,
 * and a data set too small to hold anything out splits with a NO_HELD_OUT warning instead of failing.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadDataset } from '../../src/data/load.js';
import { stratifiedSplit } from '../../src/data/split.js';
import type { Dataset, DataWarning, DataWarningCode } from '../../src/data/types.js';
import { isGraftError } from '../../src/errors.js';
import { evaluate, evaluateHeldOut } from '../../src/eval/report.js';
import { badCrcPng, lyingJpeg, lyingPng, plainPng, truncated } from './inputs.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'graft-hostile-data-'));
});
after(() => rm(root, { recursive: true, force: true }));

const warning = (ds: Dataset, code: DataWarningCode): DataWarning | undefined =>
  ds.warnings.find((w) => w.code === code);

/** A folder data set: `files[class][name]` = bytes. */
async function folder(name: string, files: Record<string, Record<string, Uint8Array>>): Promise<string> {
  const dir = join(root, name);
  for (const [c, entries] of Object.entries(files)) {
    await mkdir(join(dir, c), { recursive: true });
    for (const [f, bytes] of Object.entries(entries)) await writeFile(join(dir, c, f), bytes);
  }
  return dir;
}

const good = (n: number, seed: number): Record<string, Uint8Array> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`${i}.png`, plainPng(9 + seed + i, 8 + i)]));

test('unreadable images are named in one counted warning, or BAD_INPUT under fail', async () => {
  const dir = await folder('bad-images', {
    a: {
      ...good(3, 0),
      'zero.png': new Uint8Array(0),
      'huge.png': lyingPng(15_000, 15_000),
      'huge.jpg': lyingJpeg(20_000, 20_000),
      'text.png': new TextEncoder().encode('not an image'),
    },
    b: good(3, 7),
  });
  const ds = await loadDataset(dir);
  const bad = warning(ds, 'BAD_IMAGE');
  assert.equal(bad?.count, 4);
  for (const name of ['zero.png', 'huge.png', 'huge.jpg', 'text.png'])
    assert.ok(
      bad!.items.some((i) => i.includes(`a/${name}`)),
      `${name} named in ${bad!.items.join('; ')}`,
    );
  assert.ok(bad!.items.some((i) => /huge\.png.*pixel budget/.test(i)));
  assert.equal(ds.examples.length, 6);
  await assert.rejects(loadDataset(dir, { onBadInput: 'fail' }), (e: unknown) =>
    isGraftError(e, 'BAD_INPUT'),
  );
});

test('identical files under two classes are named, and every copy stays in the training split', async () => {
  const copy = plainPng(17, 13);
  const dir = await folder('duplicates', {
    a: { ...good(6, 0), 'copy.png': copy, 'twin-1.png': plainPng(30, 5), 'twin-2.png': plainPng(30, 5) },
    b: { ...good(6, 9), 'copy.png': copy },
  });
  const ds = await loadDataset(dir);
  const conflict = warning(ds, 'CONFLICTING_DUPLICATE');
  assert.equal(conflict?.count, 1);
  assert.match(conflict!.items[0]!, /a\/copy\.png.*=.*b\/copy\.png/);
  assert.equal(warning(ds, 'DUPLICATE')?.count, 1);
  for (const seed of [1, 2, 3, 4, 5]) {
    const s = stratifiedSplit(ds, { validation: 0.3, test: 0.3, seed });
    const train = new Set(s.train.examples.map((e) => e.id));
    assert.ok(
      train.has('a/copy.png') && train.has('b/copy.png'),
      `seed ${seed}: conflicting copies in train`,
    );
    const sideOf = (id: string) =>
      [s.train, s.validation, s.test].findIndex((p) => p.examples.some((e) => e.id === id));
    assert.equal(sideOf('a/twin-1.png'), sideOf('a/twin-2.png'), `seed ${seed}: twins on one side`);
  }
});

test("a symbolic link into another class's folder is skipped with a warning; links outside the data are kept", async () => {
  const dir = await folder('links', { a: good(3, 0), b: good(3, 5) });
  const pool = await folder('pool', { shared: { 'x.png': plainPng(21, 21) } });
  await symlink(join(dir, 'b'), join(dir, 'a', 'sneaky'));
  await symlink(join(pool, 'shared', 'x.png'), join(dir, 'a', 'pooled.png'));
  const ds = await loadDataset(dir);
  const link = warning(ds, 'LINK_OUTSIDE_CLASS');
  assert.equal(link?.count, 3);
  assert.ok(link!.items.every((i) => i.startsWith('a/sneaky/')));
  const labelOf = new Map(ds.examples.map((e) => [e.id, ds.labels[e.label]]));
  assert.equal(labelOf.get('a/pooled.png'), 'a');
  assert.equal([...labelOf.values()].filter((l) => l === 'b').length, 3);
  assert.equal(labelOf.size, 7);
});

test('manifests: non-UTF-8 rows and whitespace-only labels are named BAD_ROW warnings, not used', async () => {
  const file = join(root, 'texts.csv');
  const rows = ['text,label', 'good one,pos', 'good two,neg', 'fine three,pos', 'fine four,neg'];
  const bytes = Buffer.concat([
    Buffer.from(`${rows.join('\n')}\n`),
    Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2c, 0x70, 0x6f, 0x73, 0x0a]), // "caf\xe9,pos" in Latin-1
    Buffer.from('spaces only,   \n'),
    Buffer.from('a label in latin-1,'),
    Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]),
  ]);
  await writeFile(file, bytes);
  const ds = await loadDataset(file);
  assert.equal(ds.kind, 'text');
  assert.deepEqual(ds.labels, ['neg', 'pos']);
  assert.equal(ds.examples.length, 4);
  const bad = warning(ds, 'BAD_ROW');
  assert.equal(bad?.count, 3);
  assert.ok(
    bad!.items.some((i) => i.includes(':6') && /UTF-8/.test(i)),
    bad!.items.join('; '),
  );
  assert.ok(
    bad!.items.some((i) => i.includes(':7') && /whitespace/.test(i)),
    bad!.items.join('; '),
  );
  await assert.rejects(loadDataset(file, { onBadInput: 'fail' }), (e: unknown) =>
    isGraftError(e, 'BAD_INPUT'),
  );
});

test('truncated and corrupt images pass the header check and are left to extraction to skip by name', async () => {
  const dir = await folder('partial', {
    a: { ...good(3, 0), 'cut.png': truncated(plainPng(40, 40)), 'crc.png': badCrcPng(plainPng(30, 30)) },
    b: good(3, 5),
  });
  const ds = await loadDataset(dir, { verify: 'decode' });
  const bad = warning(ds, 'BAD_IMAGE');
  assert.equal(bad?.count, 2, JSON.stringify(ds.warnings));
  assert.ok(
    bad!.items.some((i) => i.includes('a/cut.png') && /truncated or corrupt/.test(i)),
    bad!.items[0],
  );
});

test('a data set too small to hold anything out splits with NO_HELD_OUT; its evaluation is empty, not an error', async () => {
  const dir = await folder('tiny', { a: good(2, 0), b: good(2, 5), c: good(2, 9) });
  const ds = await loadDataset(dir);
  for (const fractions of [{}, { validation: 0, test: 0 }]) {
    const s = stratifiedSplit(ds, fractions);
    assert.equal(s.train.examples.length, 6);
    assert.equal(s.validation.examples.length + s.test.examples.length, 0);
    assert.equal(s.warnings.find((w) => w.code === 'NO_HELD_OUT')?.count, 3);
  }
  const empty = evaluateHeldOut(new Float32Array(0), new Int32Array(0));
  assert.equal(empty.n, 0);
  assert.ok(Number.isNaN(empty.accuracy));
  assert.throws(() => evaluate(new Float32Array(0), new Int32Array(0)), { code: 'BAD_INPUT' });
});
