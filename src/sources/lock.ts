/**
 * Exclusive lock files for the cache: `open(path, 'wx')` succeeds in exactly one process. The file holds
 * `{pid, host}` and its mtime is refreshed while held, so a lock whose owner died (dead pid on this host) or
 * that was not refreshed for `staleMs` is broken and taken over.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { GraftError } from '../errors.js';

export interface LockOptions {
  readonly staleMs: number;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Polled while waiting; when it returns true the lock is no longer needed and `acquireLock` returns null. */
  readonly done?: () => Promise<boolean>;
}

export interface HeldLock {
  release(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  try {
    const st = await stat(path);
    if (Date.now() - st.mtimeMs > staleMs) return true;
    const owner = JSON.parse(await readFile(path, 'utf8')) as { pid?: unknown; host?: unknown };
    return owner.host === hostname() && typeof owner.pid === 'number' && !pidAlive(owner.pid);
  } catch {
    return false; // vanished, or being written right now: not stale
  }
}

async function tryCreate(path: string, staleMs: number): Promise<HeldLock | null> {
  let fh;
  try {
    fh = await open(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw new GraftError('IO_ERROR', `cannot create lock file '${path}'`, { path }, { cause: e });
  }
  try {
    await fh.writeFile(JSON.stringify({ pid: process.pid, host: hostname() }));
  } finally {
    await fh.close();
  }
  const beat = setInterval(
    () => {
      const now = new Date();
      utimes(path, now, now).catch(() => undefined);
    },
    Math.max(50, staleMs / 4),
  );
  beat.unref();
  return {
    async release() {
      clearInterval(beat);
      await rm(path, { force: true });
    },
  };
}

/** Takes the lock at `path`, waiting for another holder; returns null if `done()` became true meanwhile. */
export async function acquireLock(path: string, options: LockOptions): Promise<HeldLock | null> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (options.signal?.aborted) throw new GraftError('CANCELLED', `cancelled while waiting for '${path}'`);
    const lock = await tryCreate(path, options.staleMs);
    if (lock) return lock;
    if (options.done && (await options.done())) return null;
    if (await isStale(path, options.staleMs)) {
      // Move it aside first: of several processes breaking the same stale lock, only one rename succeeds.
      const aside = `${path}.stale.${randomBytes(4).toString('hex')}`;
      await rename(path, aside).then(
        () => rm(aside, { force: true }),
        () => undefined,
      );
      continue;
    }
    if (Date.now() > deadline) {
      throw new GraftError('IO_ERROR', `timed out waiting for lock '${path}' held by another process`, {
        path,
      });
    }
    await sleep(40 + Math.random() * 40);
  }
}
