import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDataset } from '../../src/data/load.js';
import { classCounts, sampleShots } from '../../src/data/split.js';
import { isRawImage } from '../../src/preprocess/image-types.js';
import { preprocessBatch } from '../../src/preprocess/image.js';
import { spec } from './fixtures.js';

describe('builtin datasets', () => {
  it('mnist: 10,000 real 28x28 gray digits as raw pixels, labels 0..9', async () => {
    const ds = await loadDataset('mnist');
    assert.equal(ds.kind, 'image');
    assert.equal(ds.name, 'builtin:mnist');
    assert.deepEqual(ds.labels, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.equal(ds.examples.length, 10000);
    assert.deepEqual(classCounts(ds), [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    const first = ds.examples[0]!;
    assert.ok(
      typeof first.source === 'object' && !(first.source instanceof Uint8Array) && isRawImage(first.source),
    );
    const raw = first.source;
    assert.deepEqual([raw.width, raw.height, raw.channels, raw.data.length], [28, 28, 1, 784]);
    let ink = 0;
    for (const v of raw.data) if (v > 128) ink++;
    assert.ok(ink > 30 && ink < 400, `a digit has some ink: ${ink}`);
    assert.equal(await loadDataset('builtin:mnist'), ds, 'loaded once per process');
  });

  it('mnist digits go through the image preprocessing', async () => {
    const ds = sampleShots(await loadDataset('mnist'), 1, 0);
    const s = spec({ size: [32, 32], resizeShorter: 32, channels: 3, layout: 'NCHW' });
    const t = await preprocessBatch(
      ds.examples.map((e) => e.source as Exclude<typeof e.source, string>),
      s,
    );
    assert.deepEqual(t.shape, [10, 3, 32, 32]);
    assert.ok(t.data.every((v) => Number.isFinite(v)));
  });

  it('spam-assassin: 6,046 e-mails labelled ham / spam', async () => {
    const ds = await loadDataset('spam-assassin');
    assert.equal(ds.kind, 'text');
    assert.deepEqual(ds.labels, ['ham', 'spam']);
    assert.equal(ds.examples.length, 6046);
    assert.deepEqual(classCounts(ds), [4150, 1896]);
    const e = ds.examples.find((x) => x.id.startsWith('spam-1/'))!;
    assert.equal(ds.labels[e.label], 'spam');
    assert.equal(typeof e.source, 'string');
    assert.match(e.source as string, /^From /);
  });
});
