/**
 * `graft serve` through bin/graft.js: the server runs in a child node started with SERVE_V8_FLAGS and
 * serveEnvironment()'s thread-pool size, a SIGTERM to the command reaches it once (graceful shutdown, exit 0),
 * and the child's errors and exit codes come through.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SERVE_V8_FLAGS, serveEnvironment } from '../../src/cli/respawn.js';
import { tempModel } from './helpers.js';

const BIN = fileURLToPath(new URL('../../bin/graft.js', import.meta.url));

test('graft serve runs its server in a child node with the V8 flags and stops it on SIGTERM', async (t) => {
  if (process.platform === 'win32') return t.skip('the server runs in-process on Windows');
  const { dir, cleanup } = await tempModel();
  const cli = spawn(process.execPath, [BIN, 'serve', dir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      cli.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      cli.once('exit', (code) => reject(new Error(`graft serve exited (${code}) before listening`)));
    });
    const [pid, ...args] = execFileSync('ps', ['--ppid', String(cli.pid), '-o', 'pid=,args='], {
      encoding: 'utf8',
    })
      .trim()
      .split(/\s+/);
    assert.ok(
      SERVE_V8_FLAGS.every((f) => args.includes(f)),
      `the server process runs with ${SERVE_V8_FLAGS.join(' ')}: ${args.join(' ')}`,
    );
    const environ = (await readFile(`/proc/${pid}/environ`, 'latin1')).split('\0');
    assert.ok(environ.includes(`UV_THREADPOOL_SIZE=${serveEnvironment({}).UV_THREADPOOL_SIZE}`));
    assert.equal((await fetch(`${url}/health`)).status, 200);
    const exited = once(cli, 'exit');
    cli.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
  } finally {
    cli.kill('SIGKILL');
    await cleanup();
  }
});

test("graft serve passes on its server's error and exit code", () => {
  try {
    execFileSync(process.execPath, [BIN, 'serve', '/nonexistent-model-dir', '--port', '0'], {
      stdio: 'pipe',
    });
    assert.fail('graft serve should have failed');
  } catch (e) {
    const err = e as { status: number; stderr: Buffer };
    assert.equal(err.status, 4);
    const lines = err.stderr.toString().trim().split('\n');
    assert.equal(lines.length, 1, 'one error line, printed once');
    assert.match(lines[0]!, /MODEL_NOT_FOUND/);
  }
});
