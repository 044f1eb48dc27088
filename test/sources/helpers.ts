/** Shared test helpers: a fresh temp cache per test, hub options that never read the real environment. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResolveOptions } from '../../src/sources/types.js';
import type { TestHub } from './server.js';

export async function tempDir(
  prefix = 'graft-sources-',
): Promise<{ dir: string; [Symbol.asyncDispose](): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) };
}

/** Options against the test hub; `env: {}` keeps HF_TOKEN, HF_HUB_OFFLINE etc. of the real environment out. */
export function hubOptions(hub: TestHub, cacheDir: string, extra: ResolveOptions = {}): ResolveOptions {
  return { endpoint: hub.endpoint, cacheDir, env: {}, ...extra };
}

/** All files under dir (recursive), relative, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1))
    .sort();
}
