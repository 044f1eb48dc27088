import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isGraftError } from '../../src/errors.js';
import { loadImageFolder } from '../../src/data/image-folder.js';
import { loadDataset } from '../../src/data/load.js';
import type { DataWarning } from '../../src/data/types.js';
import { solid, tempDir } from './fixtures.js';

let root = '';
let cleanup: () => Promise<void> = async () => {};

const warning = (ws: readonly DataWarning[], code: string): DataWarning | undefined =>
  ws.find((w) => w.code === code);

before(async () => {
  let dir: string;
  ({ dir, cleanup } = await tempDir());
  root = join(dir, 'pets');
  for (const c of ['dog', 'cat', 'Bird', 'empty']) await mkdir(join(root, c), { recursive: true });
  await mkdir(join(root, '.hidden-class'));
  await mkdir(join(root, 'cat', 'nested'));
  await solid(8, 8, [1, 2, 3])
    .jpeg()
    .toFile(join(root, 'cat', 'a.jpg'));
  await solid(8, 8, [1, 2, 3])
    .png()
    .toFile(join(root, 'cat', 'B.PNG'));
  await solid(8, 8, [1, 2, 3])
    .webp()
    .toFile(join(root, 'cat', 'nested', 'c.webp'));
  await solid(8, 8, [1, 2, 3])
    .png()
    .toFile(join(root, 'cat', '.secret.png'));
  await solid(8, 8, [1, 2, 3])
    .gif()
    .toFile(join(root, 'dog', 'd.gif'));
  await solid(8, 8, [1, 2, 3])
    .tiff()
    .toFile(join(root, 'dog', 'e.TIFF'));
  await writeFile(join(root, 'dog', 'notes.txt'), 'hello');
  await writeFile(join(root, 'dog', 'zero.jpg'), new Uint8Array(0));
  await writeFile(join(root, 'dog', 'text.jpg'), 'not really a jpeg');
  await solid(8, 8, [1, 2, 3])
    .jpeg()
    .toFile(join(root, 'Bird', 'f.jpeg'));
  await solid(8, 8, [1, 2, 3])
    .jpeg()
    .toFile(join(root, '.hidden-class', 'g.jpg'));
  await writeFile(join(root, 'README.md'), '# pets');
  const truncated = await solid(300, 200, [9, 9, 9]).jpeg().toBuffer();
  await mkdir(join(root, 'dog-trunc'));
  await writeFile(join(root, 'dog-trunc', 'half.jpg'), truncated.subarray(0, truncated.length >> 1));
  await solid(8, 8, [1, 2, 3])
    .jpeg()
    .toFile(join(root, 'dog-trunc', 'ok.jpg'));
});
after(() => cleanup());

describe('image folder', () => {
  it('finds classes in sorted order, skips hidden entries, counts ignored and bad files', async () => {
    const ds = await loadImageFolder(root);
    assert.equal(ds.kind, 'image');
    assert.deepEqual(ds.labels, ['Bird', 'cat', 'dog', 'dog-trunc']);
    const ids = ds.examples.map((e) => `${ds.labels[e.label]}:${e.id}`);
    assert.deepEqual(ids, [
      'Bird:Bird/f.jpeg',
      'cat:cat/B.PNG',
      'cat:cat/a.jpg',
      'cat:cat/nested/c.webp',
      'dog:dog/d.gif',
      'dog:dog/e.TIFF',
      'dog-trunc:dog-trunc/half.jpg',
      'dog-trunc:dog-trunc/ok.jpg',
    ]);
    assert.ok(ds.examples.every((e) => typeof e.source === 'string' && e.source.startsWith(root)));
    assert.equal(warning(ds.warnings, 'IGNORED_FILE')?.count, 2); // README.md, dog/notes.txt
    const bad = warning(ds.warnings, 'BAD_IMAGE');
    assert.equal(bad?.count, 2);
    assert.ok(bad?.items.some((i) => i.startsWith('dog/zero.jpg')));
    assert.ok(bad?.items.some((i) => i.startsWith('dog/text.jpg')));
    assert.deepEqual(warning(ds.warnings, 'EMPTY_CLASS')?.items, [
      'empty (class folder has no usable images)',
    ]);
  });

  it("catches truncated images only with verify: 'decode'", async () => {
    const ds = await loadImageFolder(root, { verify: 'decode' });
    assert.equal(warning(ds.warnings, 'BAD_IMAGE')?.count, 3);
    assert.ok(!ds.examples.some((e) => e.id === 'dog-trunc/half.jpg'));
  });

  it("throws BAD_INPUT naming the file under onBadInput: 'fail'", async () => {
    await assert.rejects(loadImageFolder(root, { onBadInput: 'fail' }), (e: unknown) => {
      assert.ok(isGraftError(e, 'BAD_INPUT'));
      assert.match(e.message, /dog\/(text|zero)\.jpg/);
      return true;
    });
  });

  it('rejects a folder without class folders', async () => {
    await assert.rejects(loadImageFolder(join(root, 'cat', 'nested')), (e: unknown) =>
      isGraftError(e, 'BAD_INPUT'),
    );
    await assert.rejects(loadImageFolder(join(root, 'missing')), (e: unknown) =>
      isGraftError(e, 'BAD_INPUT'),
    );
  });
});

describe('loadDataset dispatch', () => {
  it('loads a directory as an image folder', async () => {
    const ds = await loadDataset(root);
    assert.equal(ds.kind, 'image');
    assert.equal(ds.labels.length, 4);
  });

  it('rejects unknown strings listing the accepted forms', async () => {
    for (const s of ['builtin:cifar', 'no/such/place', '', join(root, 'README.md')]) {
      await assert.rejects(loadDataset(s), (e: unknown) => {
        assert.ok(isGraftError(e, 'BAD_INPUT'), String(e));
        assert.match(e.message, /mnist, spam-assassin/);
        assert.match(e.message, /\.csv/);
        return true;
      });
    }
  });
});
