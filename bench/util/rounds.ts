/**
 * Fair rounds for the peer benchmarks: every side runs in a process of its own each round, the order of the
 * sides rotates from round to round, and each process's peak RSS comes from `/usr/bin/time -v` (or, where that
 * is missing, from the side's own report). Summaries are the median and the spread (min–max) over rounds,
 * never the best round.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { median } from './stats.js';

const TIME = '/usr/bin/time';

export interface ChildResult<T> {
  /** The last stdout line, parsed as JSON. */
  value: T;
  /** Peak resident set size of the process, MB (/usr/bin/time -v's "Maximum resident set size"). */
  peakRssMb: number | undefined;
}

/** Runs `cmd args` to completion and parses its last stdout line as JSON; throws with its stderr on failure. */
export function runChild<T>(
  cmd: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): ChildResult<T> {
  const timed = existsSync(TIME);
  const r = spawnSync(timed ? TIME : cmd, timed ? ['-v', cmd, ...args] : [...args], {
    encoding: 'utf8',
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  return {
    value: JSON.parse(lines[lines.length - 1]!) as T,
    peakRssMb: rss ? Number(rss[1]) / 1024 : undefined,
  };
}

/** Arguments that run a bench script again in a fresh node (with tsx), e.g. as one side of a round. */
export function nodeScript(scriptUrl: string, args: readonly string[]): [string, string[]] {
  return [process.execPath, ['--import', 'tsx', fileURLToPath(scriptUrl), ...args]];
}

/**
 * Runs `rounds` rounds of every side; in round r the sides start at index r mod n (with two sides: A B, B A,
 * A B, ...). Returns each side's results in round order.
 */
export async function alternate<K extends string, T>(
  rounds: number,
  sides: Record<K, () => T | Promise<T>>,
  onRound?: (round: number, results: Record<K, T>) => void,
): Promise<Record<K, T[]>> {
  const names = Object.keys(sides) as K[];
  const out = Object.fromEntries(names.map((n) => [n, [] as T[]])) as Record<K, T[]>;
  for (let r = 0; r < rounds; r++) {
    const got = {} as Record<K, T>;
    for (let i = 0; i < names.length; i++) {
      const name = names[(r + i) % names.length]!;
      got[name] = await sides[name]();
      out[name].push(got[name]);
    }
    onRound?.(r, got);
  }
  return out;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(xs: readonly number[]): Spread {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

/** "12.3 (11.9–13.0)": the median and, in brackets, the range over rounds. */
export function showSpread(xs: readonly number[], digits = 3): string {
  if (xs.length === 0) return 'n/a';
  const s = spread(xs);
  const f = (x: number) => (Math.abs(x) >= 10 ** digits ? x.toFixed(0) : x.toPrecision(digits));
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

/** Per-round ratios a[i] / b[i] (the two sides of one round ran back to back). */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  return a.map((x, i) => x / b[i]!);
}

/**
 * "graft … <unit>, PyTorch … <unit>; ratio … of medians, per round …", with both sides' peak RSS when measured:
 * the summary of a graft-vs-PyTorch throughput benchmark run in alternating rounds.
 */
export function versusPyTorch(
  res: { graft: readonly number[]; torch: readonly number[] },
  rss: { graft: readonly number[]; torch: readonly number[] },
  unit: string,
): string {
  const ratio = spread(res.graft).median / spread(res.torch).median;
  return (
    `graft ${showSpread(res.graft)} ${unit}, PyTorch ${showSpread(res.torch)} ${unit}; ` +
    `ratio ${ratio.toFixed(2)} of medians, per round ${showSpread(pairedRatios(res.graft, res.torch), 2)}` +
    (rss.graft.length && rss.torch.length
      ? `; peak RSS graft ${showSpread(rss.graft, 4)} MB, PyTorch ${showSpread(rss.torch, 4)} MB`
      : '')
  );
}
