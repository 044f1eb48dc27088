import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isGraftError } from '../../src/errors.js';
import { preprocessBatch, preprocessImage } from '../../src/preprocess/image.js';
import { solid, spec, tempDir } from './fixtures.js';

let dir = '';
let cleanup: () => Promise<void> = async () => {};
let good = '';

before(async () => {
  ({ dir, cleanup } = await tempDir());
  good = join(dir, 'good.jpg');
  await solid(64, 48, [10, 20, 30]).jpeg().toFile(good);
});
after(() => cleanup());

async function expectBadInput(p: Promise<unknown>, file: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isGraftError(e, 'BAD_INPUT'), `expected BAD_INPUT, got ${String(e)}`);
    assert.ok(e.message.includes(file), `message should name ${file}: ${e.message}`);
    assert.equal(e.context['file'], file);
    return true;
  });
}

describe('bad image input', () => {
  it('rejects a truncated JPEG', async () => {
    const bytes = await solid(300, 200, [200, 10, 10]).jpeg().toBuffer();
    const file = join(dir, 'truncated.jpg');
    await writeFile(file, bytes.subarray(0, bytes.length >> 1));
    await expectBadInput(preprocessImage(file, spec()), file);
  });

  it('rejects a zero-byte file', async () => {
    const file = join(dir, 'empty.png');
    await writeFile(file, new Uint8Array(0));
    await expectBadInput(preprocessImage(file, spec()), file);
  });

  it('rejects a text file named .jpg', async () => {
    const file = join(dir, 'notes.jpg');
    await writeFile(file, 'this is not an image\n');
    await expectBadInput(preprocessImage(file, spec()), file);
  });

  it('rejects a missing file and a directory', async () => {
    await expectBadInput(preprocessImage(join(dir, 'nope.png'), spec()), join(dir, 'nope.png'));
    await expectBadInput(preprocessImage(dir, spec()), dir);
  });

  it('rejects a truncated BMP and names byte inputs by the given name', async () => {
    const bmp = Buffer.alloc(60);
    bmp.write('BM', 0, 'latin1');
    bmp.writeUInt32LE(54, 10);
    bmp.writeUInt32LE(40, 14);
    bmp.writeInt32LE(100, 18);
    bmp.writeInt32LE(100, 22);
    bmp.writeUInt16LE(24, 28);
    await expectBadInput(preprocessImage(bmp, spec(), { name: 'upload.bmp' }), 'upload.bmp');
  });

  it('rejects raw pixels whose buffer does not match the dimensions', async () => {
    const raw = { width: 4, height: 4, channels: 3 as const, data: new Uint8Array(10) };
    await expectBadInput(preprocessImage(raw, spec(), { name: 'digit-7' }), 'digit-7');
  });

  it('fails a batch naming the bad member', async () => {
    const file = join(dir, 'bad-in-batch.jpg');
    await writeFile(file, 'nope');
    await expectBadInput(preprocessBatch([good, file, good], spec()), file);
  });

  it('rejects an invalid spec with BAD_OPTION', async () => {
    await assert.rejects(preprocessImage(good, spec({ mean: [0, 0] })), (e: unknown) =>
      isGraftError(e, 'BAD_OPTION'),
    );
    await assert.rejects(preprocessImage(good, spec({ std: [1, 0, 1] })), (e: unknown) =>
      isGraftError(e, 'BAD_OPTION'),
    );
  });
});
