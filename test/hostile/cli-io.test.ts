/**
 * File-system problems are IO_ERROR (exit 8) naming the path, found before any extraction or training: `--out`
 * naming a file, a path under a file, a kernel file system, a directory of other files; `--cache-dir` naming a
 * file. Orphaned temporary files of killed atomic writes are removed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isGraftError } from '../../src/errors.js';
import { preflight } from '../../src/pipeline/preflight.js';
import { plainPng } from './inputs.js';

const BIN = fileURLToPath(new URL('../../bin/graft.js', import.meta.url));
let root: string;
let data: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'graft-hostile-io-'));
  data = join(root, 'data');
  for (const c of ['a', 'b'])
    for (let i = 0; i < 3; i++) {
      await mkdir(join(data, c), { recursive: true });
      await writeFile(join(data, c, `${i}.png`), plainPng(10 + i, 9 + (c === 'a' ? 0 : 1)));
    }
});
after(() => rm(root, { recursive: true, force: true }));

function train(args: readonly string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'train', data, '--quiet', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stderr: r.stderr };
}

test('--out and --cache-dir problems are IO_ERROR (exit 8) naming the path, before any work', async () => {
  const file = join(root, 'a-file');
  await writeFile(file, 'not a directory');
  const foreign = join(root, 'foreign');
  await mkdir(foreign);
  await writeFile(join(foreign, 'notes.txt'), 'mine');
  const cache = join(root, 'cache');
  const cases: [string, string[], string][] = [
    ['--out names a file', ['--out', file], file],
    ['--out under a file', ['--out', join(file, 'model')], file],
    ['--out under /proc', ['--out', '/proc/graft-model'], '/proc/graft-model'],
    ['--out under /sys', ['--out', '/sys/graft-model'], '/sys/graft-model'],
    ['--out a directory of other files', ['--out', foreign], foreign],
    ['--cache-dir names a file', ['--out', join(root, 'm1'), '--cache-dir', file], file],
  ];
  for (const [what, args, path] of cases) {
    const r = train([...args, ...(args.includes('--cache-dir') ? [] : ['--cache-dir', cache])]);
    assert.equal(r.status, 8, `${what}: exit ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, /\[IO_ERROR\]/, what);
    assert.ok(r.stderr.includes(path), `${what}: names ${path}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line: ${r.stderr}`);
  }
  assert.equal(existsSync(join(cache, 'features')), false, 'nothing was extracted');
  assert.deepEqual(await readdir(foreign), ['notes.txt'], "the user's files are untouched");
});

test('a read-only directory is IO_ERROR (when not running as root)', async (t) => {
  if (process.getuid?.() === 0) return t.skip('root writes anywhere');
  const ro = join(root, 'ro');
  await mkdir(ro);
  await chmod(ro, 0o555);
  try {
    await assert.rejects(preflight({ out: join(ro, 'model'), cacheDir: false }), (e: unknown) =>
      isGraftError(e, 'IO_ERROR'),
    );
  } finally {
    await chmod(ro, 0o755);
  }
});

test('temporary files left by killed atomic writes are removed; live ones are kept', async () => {
  const out = join(root, 'resumable');
  const ckpt = join(out, 'checkpoints');
  await mkdir(ckpt, { recursive: true });
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  try {
    const orphan = `.checkpoint-10.${dead}.0123abcd.tmp`;
    const inUse = `.checkpoint-11.${live.pid}.89abcdef.tmp`;
    await mkdir(join(ckpt, orphan));
    await writeFile(join(ckpt, orphan, 'training_state.ckpt'), new Uint8Array(1024));
    await mkdir(join(ckpt, inUse));
    await mkdir(join(ckpt, 'checkpoint-9'));
    await preflight({ out, cacheDir: false });
    assert.deepEqual((await readdir(ckpt)).sort(), [inUse, 'checkpoint-9'].sort());
  } finally {
    live.kill('SIGKILL');
  }
});
