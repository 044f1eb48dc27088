/**
 * The unlabelled part of a transfer set (src/distill/unlabeled.ts, data/manifest.ts's unlabelled mode): CSV and
 * JSONL manifests with a text column and no label column, a folder of .txt files, texts given directly; examples
 * carry label -1; an empty file or a missing text column is BAD_INPUT; empty texts are counted BAD_ROW warnings
 * (or BAD_INPUT under 'fail'); texts also in the labelled data are left out; image manifests need no label
 * column either.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { loadUnlabeledManifest } from '../../src/data/manifest.js';
import { loadUnlabeled, unlabeledExamples } from '../../src/distill/unlabeled.js';
import { isGraftError } from '../../src/errors.js';
import type { TrainEvent } from '../../src/pipeline/events.js';

describe('unlabelled texts', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'graft-unlabeled-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));
  const file = async (name: string, text: string) => {
    const p = join(dir, name);
    await writeFile(p, text);
    return p;
  };

  it('reads a CSV with only a text column, every row unlabelled, an empty text a counted warning', async () => {
    const p = await file('u.csv', 'text\n"a cat, at home"\nred sky\n"  "\n   \nblue fox\n');
    const set = await loadUnlabeled('text', p, 'skip');
    assert.deepEqual(
      set.examples.map((e) => [e.source, e.label]),
      [
        ['a cat, at home', -1],
        ['red sky', -1],
        ['blue fox', -1],
      ],
    );
    const bad = set.warnings.find((w) => w.code === 'BAD_ROW');
    assert.equal(bad?.count, 2, JSON.stringify(set.warnings));
    assert.match(bad!.items.join(' '), /u\.csv:4 \(missing text\)/);
    await assert.rejects(loadUnlabeled('text', p, 'fail'), (e) => isGraftError(e, 'BAD_INPUT'));
  });

  it('reads JSONL without labels, and ignores a label column when there is one', async () => {
    const p = await file('u.jsonl', '{"text": "one dog"}\n{"Text": "two cats", "id": 7}\n');
    const set = await loadUnlabeled('text', p, 'skip');
    assert.deepEqual(
      set.examples.map((e) => [e.source, e.label]),
      [
        ['one dog', -1],
        ['two cats', -1],
      ],
    );
    const labelled = await loadUnlabeledManifest(await file('l.csv', 'text,label\nhello,a\nworld,b\n'));
    assert.equal(labelled.kind, 'text');
    assert.deepEqual(labelled.labels, []);
    assert.deepEqual(
      labelled.examples.map((e) => e.label),
      [-1, -1],
    );
  });

  it('reads a folder of .txt files, one text each', async () => {
    const d = join(dir, 'texts');
    await mkdir(join(d, 'more'), { recursive: true });
    await writeFile(join(d, 'a.txt'), 'first text\nwith two lines');
    await writeFile(join(d, 'more', 'b.TXT'), 'second');
    await writeFile(join(d, 'empty.txt'), '\n');
    await writeFile(join(d, 'notes.md'), 'not an example');
    const set = await loadUnlabeled('text', d, 'skip');
    assert.deepEqual(set.examples.map((e) => e.source).sort(), ['first text\nwith two lines', 'second']);
    assert.ok(set.examples.every((e) => e.label === -1));
    assert.equal(set.warnings.find((w) => w.code === 'BAD_ROW')?.count, 1);
  });

  it('refuses an empty file, a file without a text column, and image data, with BAD_INPUT', async () => {
    for (const [name, text, why] of [
      ['empty.csv', '', /is empty/],
      ['empty.jsonl', '\n\n', /is empty/],
      ['cols.csv', 'body,label\nhello,a\n', /needs a 'text' column.*found: body, label/],
      ['blank.csv', 'text\n""\n', /no usable rows/],
    ] as const) {
      const p = await file(name, text);
      await assert.rejects(
        loadUnlabeled('text', p, 'skip'),
        (e) => isGraftError(e, 'BAD_INPUT') && why.test(e.message),
        name,
      );
    }
    await assert.rejects(
      loadUnlabeled('text', 'mnist', 'skip'),
      (e) => isGraftError(e, 'BAD_INPUT') && /image data/.test(e.message),
    );
  });

  it('reads an image manifest with only a path column (images need no label either)', async () => {
    const png = fileURLToPath(new URL('../fixtures/png-variants/palette2.png', import.meta.url));
    const p = await file('images.csv', `path\n${png}\n${png}\n\nmissing.png\n`);
    const set = await loadUnlabeled('image', p, 'skip');
    assert.deepEqual(
      set.examples.map((e) => [e.source, e.label]),
      [
        [png, -1],
        [png, -1],
      ],
    );
    assert.equal(set.warnings.find((w) => w.code === 'MISSING_FILE')?.count, 1);
    await assert.rejects(
      loadUnlabeled('image', await file('texts.csv', 'text\nhello\n'), 'skip'),
      (e) => isGraftError(e, 'BAD_INPUT') && /text data; image students need images/.test(e.message),
    );
  });

  it('leaves out texts the labelled data already has, and reports the warnings', async () => {
    const p = await file('dup.csv', 'text\nseen before\nnew one\n" "\n');
    const events: TrainEvent[] = [];
    const taken = [{ id: 'data.csv:2', label: 0, source: 'seen before' }];
    const kept = await unlabeledExamples(
      'text',
      { unlabeled: p, onBadInput: 'skip', onEvent: (e) => events.push(e) },
      join(dir, 'data.csv'),
      taken,
    );
    assert.deepEqual(
      kept.map((e) => e.source),
      ['new one'],
    );
    assert.ok(events.some((e) => e.type === 'warning' && e.warning.code === 'BAD_ROW'));
    assert.ok(
      events.some((e) => e.type === 'stage' && /1 unlabelled texts are also in the labelled/.test(e.message)),
    );
    await assert.rejects(
      unlabeledExamples('text', { unlabeled: p, onBadInput: 'skip' }, 'x', [
        { id: '1', label: 0, source: 'seen before' },
        { id: '2', label: 1, source: 'new one' },
      ]),
      (e) => isGraftError(e, 'BAD_INPUT') && /no usable unlabelled texts/.test(e.message),
    );
  });
});
