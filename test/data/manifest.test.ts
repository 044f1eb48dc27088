import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseCsv } from '../../src/data/csv.js';
import { loadDataset } from '../../src/data/load.js';
import { loadManifest } from '../../src/data/manifest.js';
import { isGraftError } from '../../src/errors.js';
import { solid, tempDir } from './fixtures.js';

let dir = '';
let cleanup: () => Promise<void> = async () => {};

before(async () => {
  ({ dir, cleanup } = await tempDir());
  await mkdir(join(dir, 'imgs'));
  for (const n of ['a', 'b', 'c'])
    await solid(8, 8, [5, 5, 5])
      .png()
      .toFile(join(dir, 'imgs', `${n}.png`));
});
after(() => cleanup());

describe('parseCsv', () => {
  it('handles quotes, doubled quotes, embedded commas and newlines, CRLF, BOM and blank lines', () => {
    const recs = parseCsv('\ufefftext,label\r\n"hi, there",1\r\n\r\n"say ""x""\nok",0\nplain,2');
    assert.deepEqual(
      recs.map((r) => r.fields),
      [
        ['text', 'label'],
        ['hi, there', '1'],
        ['say "x"\nok', '0'],
        ['plain', '2'],
      ],
    );
    assert.deepEqual(
      recs.map((r) => r.line),
      [1, 2, 4, 6],
    );
  });
});

describe('manifests', () => {
  it('loads a path,label CSV with paths relative to the manifest and counts missing files', async () => {
    const file = join(dir, 'train.csv');
    await writeFile(file, 'path,label\nimgs/a.png,cat\nimgs/b.png,dog\nimgs/gone.png,dog\nimgs/c.png,cat\n');
    const ds = await loadManifest(file);
    assert.equal(ds.kind, 'image');
    assert.deepEqual(ds.labels, ['cat', 'dog']);
    assert.deepEqual(
      ds.examples.map((e) => [e.id, e.label, e.source]),
      [
        ['imgs/a.png', 0, join(dir, 'imgs', 'a.png')],
        ['imgs/b.png', 1, join(dir, 'imgs', 'b.png')],
        ['imgs/c.png', 0, join(dir, 'imgs', 'c.png')],
      ],
    );
    const missing = ds.warnings.find((w) => w.code === 'MISSING_FILE');
    assert.equal(missing?.count, 1);
    assert.match(missing!.items[0]!, /train\.csv:4 imgs\/gone\.png/);
    await assert.rejects(loadManifest(file, { onBadInput: 'fail' }), (e: unknown) => {
      assert.ok(isGraftError(e, 'BAD_INPUT'));
      assert.match(e.message, /gone\.png/);
      return true;
    });
  });

  it('loads a text,label CSV as a text dataset with numeric labels sorted numerically', async () => {
    const file = join(dir, 'texts.csv');
    await writeFile(file, 'label,text\n10,"ten, as text"\n2,two\n,no label\n2,"multi\nline"\n');
    const ds = await loadDataset(file);
    assert.equal(ds.kind, 'text');
    assert.deepEqual(ds.labels, ['2', '10']);
    assert.deepEqual(
      ds.examples.map((e) => [e.source, ds.labels[e.label]]),
      [
        ['ten, as text', '10'],
        ['two', '2'],
        ['multi\nline', '2'],
      ],
    );
    assert.equal(ds.warnings.find((w) => w.code === 'BAD_ROW')?.count, 1);
  });

  it('loads JSONL with image paths or texts, counting bad lines', async () => {
    const images = join(dir, 'm.jsonl');
    await writeFile(
      images,
      [
        JSON.stringify({ path: 'imgs/a.png', label: 1 }),
        JSON.stringify({ path: join(dir, 'imgs', 'b.png'), label: 0 }),
        '{broken',
        '',
      ].join('\n'),
    );
    const ds = await loadDataset(images);
    assert.equal(ds.kind, 'image');
    assert.deepEqual(ds.labels, ['0', '1']);
    assert.deepEqual(
      ds.examples.map((e) => e.label),
      [1, 0],
    );
    assert.equal(ds.warnings.find((w) => w.code === 'BAD_ROW')?.count, 1);

    const texts = join(dir, 't.jsonl');
    await writeFile(
      texts,
      `${JSON.stringify({ Text: 'hello', Label: 'greet' })}\n${JSON.stringify({ text: 'bye', label: 'part' })}\n`,
    );
    const td = await loadDataset(texts);
    assert.equal(td.kind, 'text');
    assert.deepEqual(td.labels, ['greet', 'part']);
    assert.deepEqual(
      td.examples.map((e) => e.id),
      ['t.jsonl:1', 't.jsonl:2'],
    );
  });

  it('rejects a manifest without the needed columns, naming what it found', async () => {
    const file = join(dir, 'bad.csv');
    await writeFile(file, 'image_url,category\nx,y\n');
    await assert.rejects(loadManifest(file), (e: unknown) => {
      assert.ok(isGraftError(e, 'BAD_INPUT'));
      assert.match(e.message, /image_url, category/);
      return true;
    });
  });
});
