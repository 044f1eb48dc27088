/**
 * bin/graft.js runs through its own shebang line (`env -S node --initial-old-space-size=256`, the V8 setting
 * graft serve relies on to keep garbage collection off its cores) on this system.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/graft.js', import.meta.url));

test('bin/graft.js starts node with its V8 options and runs the CLI', () => {
  const first = readFileSync(BIN, 'utf8').split('\n')[0];
  assert.equal(first, '#!/usr/bin/env -S node --initial-old-space-size=256');
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  const run = spawnSync(BIN, ['--version'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), pkg.version);
});
