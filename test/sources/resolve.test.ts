import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isGraftError } from '../../src/errors.js';
import { resolveSource } from '../../src/sources/resolve.js';
import { hubOptions, tempDir } from './helpers.js';
import { startHub, type TestHub } from './server.js';

let hub: TestHub;
before(async () => {
  hub = await startHub();
});
after(() => hub.close());

/** A project dir with node_modules/model-pkg (whose `exports` hide its files) and node_modules/@graft/models. */
async function fakeProject(dir: string): Promise<string> {
  const pkg = join(dir, 'node_modules', 'model-pkg');
  await mkdir(join(pkg, 'weights'), { recursive: true });
  await writeFile(
    join(pkg, 'package.json'),
    JSON.stringify({ name: 'model-pkg', exports: { '.': './index.js' } }),
  );
  await writeFile(join(pkg, 'index.js'), '');
  await writeFile(join(pkg, 'weights', 'model.json'), '{"format":"layers-model"}');
  const scoped = join(dir, 'node_modules', '@graft', 'models');
  await mkdir(scoped, { recursive: true });
  await writeFile(join(scoped, 'package.json'), JSON.stringify({ name: '@graft/models' }));
  await writeFile(join(scoped, 'model.onnx'), 'onnx');
  return join(dir, 'main.js');
}

describe('resolveSource', () => {
  test('npm: resolves package files, also ones the exports map hides, and scoped packages', async () => {
    await using tmp = await tempDir();
    const resolveFrom = await fakeProject(tmp.dir);
    const r = await resolveSource('npm:model-pkg/weights/model.json', { resolveFrom });
    assert.ok(r.kind === 'npm');
    assert.equal(await readFile(r.file, 'utf8'), '{"format":"layers-model"}');
    const s = await resolveSource('npm:@graft/models/model.onnx', { resolveFrom });
    assert.ok(s.kind === 'npm');
    assert.equal(s.file, join(tmp.dir, 'node_modules', '@graft', 'models', 'model.onnx'));
  });

  test('npm: unknown package or file → MODEL_NOT_FOUND', async () => {
    await using tmp = await tempDir();
    const resolveFrom = await fakeProject(tmp.dir);
    await assert.rejects(resolveSource('npm:no-such-package-graft/x.json', { resolveFrom }), (e) => {
      assert.ok(isGraftError(e, 'MODEL_NOT_FOUND'));
      assert.match(e.message, /not installed/);
      return true;
    });
    await assert.rejects(resolveSource('npm:model-pkg/nope.json', { resolveFrom }), (e) =>
      isGraftError(e, 'MODEL_NOT_FOUND'),
    );
  });

  test('file: a directory, a file, and a missing path', async () => {
    await using tmp = await tempDir();
    await writeFile(join(tmp.dir, 'model.onnx'), 'x');
    assert.deepEqual(await resolveSource(`file:${tmp.dir}`), {
      kind: 'file',
      source: { kind: 'file', raw: `file:${tmp.dir}`, path: tmp.dir },
      dir: tmp.dir,
      file: undefined,
    });
    const f = await resolveSource(`file:${join(tmp.dir, 'model.onnx')}`);
    assert.ok(f.kind === 'file');
    assert.equal(f.dir, tmp.dir);
    assert.equal(f.file, join(tmp.dir, 'model.onnx'));
    await assert.rejects(resolveSource(`file:${join(tmp.dir, 'missing')}`), (e) =>
      isGraftError(e, 'MODEL_NOT_FOUND'),
    );
  });

  test('hub: lists the repo, downloads a snapshot; offline afterwards', async () => {
    hub.faults = {};
    await using tmp = await tempDir();
    const r = await resolveSource('hub:graft-test/tiny-model', hubOptions(hub, tmp.dir));
    assert.ok(r.kind === 'hub');
    assert.equal(r.commit, hub.fixture.commit);
    assert.deepEqual([...r.files].sort(), [...hub.fixture.files.keys()].sort());
    for (const [f, bytes] of hub.fixture.files) assert.deepEqual(await readFile(join(r.dir, f)), bytes);
    const off = await resolveSource(
      'hub:graft-test/tiny-model@main',
      hubOptions(hub, tmp.dir, { offline: true }),
    );
    assert.ok(off.kind === 'hub');
    assert.equal(off.dir, r.dir);
    assert.deepEqual([...off.files].sort(), [...r.files].sort());
    const some = await resolveSource(
      'hub:graft-test/tiny-model',
      hubOptions(hub, tmp.dir, { files: ['config.json'] }),
    );
    assert.deepEqual(some.kind === 'hub' && some.files, ['config.json']);
  });

  test('hub: offline with an empty cache → OFFLINE_MISSING', async () => {
    await using tmp = await tempDir();
    await assert.rejects(
      resolveSource('hub:graft-test/tiny-model', hubOptions(hub, tmp.dir, { offline: true })),
      (e) => isGraftError(e, 'OFFLINE_MISSING'),
    );
  });

  test('ambiguous strings are rejected before any I/O', async () => {
    await assert.rejects(resolveSource('graft-test/tiny-model'), (e) => isGraftError(e, 'SOURCE_AMBIGUOUS'));
  });
});
