import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { call, metricValue, postImage, tempModel, testImage } from './helpers.js';

const child = fileURLToPath(new URL('./child-serve.ts', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });
}

test('SIGTERM: stops accepting, finishes the in-flight request, exits 0', { timeout: 60_000 }, async () => {
  const { dir, cleanup } = await tempModel();
  // a request waits 1.5 s for batch companions: long enough to SIGTERM while it is in flight
  const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, '1500'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      proc.once('exit', (code) => reject(new Error(`server exited early (${code}): ${stderr}`)));
    });
    const port = Number(new URL(url).port);
    const t0 = Date.now();
    const pending = postImage(url, await testImage(9));
    // wait until the server has the request (the /metrics call itself is the other one in flight)
    for (let i = 0; i < 100; i++) {
      const m = await call<string>(`${url}/metrics`, { headers: { connection: 'close' } });
      if (metricValue(m.body, 'graft_http_requests_in_flight') >= 2) break;
      await sleep(20);
    }
    proc.kill('SIGTERM');
    await sleep(300);
    assert.ok(await refused(port), 'new connections are refused after SIGTERM');
    const r = await pending;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.predictions.length, 1);
    assert.ok(Date.now() - t0 >= 1400, 'the request waited its batch window and was not cut short');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /SIGTERM/);
  } finally {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    await cleanup();
  }
});
