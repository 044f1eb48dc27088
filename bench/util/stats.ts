/** Small helpers shared by the benchmarks: medians, timing, and running the Python peers. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export const fmt = (x: number, digits = 3): string => x.toPrecision(digits);

/** Seconds taken by `f`, and its result. */
export async function timed<T>(f: () => Promise<T>): Promise<{ s: number; value: T }> {
  const t0 = performance.now();
  const value = await f();
  return { s: (performance.now() - t0) / 1000, value };
}

/** Where ../shared/peers writes its artifacts (same rule as its scripts). */
export function peersOut(): string {
  return process.env['PEERS_OUT'] ?? join(tmpdir(), 'graft-peers');
}

export const SHARED_PEERS = new URL('../../../shared/peers/', import.meta.url).pathname;
export const BENCH_PEERS = new URL('../peers/', import.meta.url).pathname;
export const PYTHON = '/usr/bin/python3';

export function havePython(modules: readonly string[]): boolean {
  if (!existsSync(PYTHON)) return false;
  const r = spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' });
  return r.status === 0;
}

/** Runs a command and parses the last line of its stdout as JSON; throws with its stderr on failure. */
export function runJson<T>(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): T {
  const r = spawnSync(cmd, [...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}
