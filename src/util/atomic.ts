/** Atomic file writes: write a temp file in the same directory, fsync, then rename over the target. */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GraftError } from '../errors.js';

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new GraftError('IO_ERROR', `cannot write '${path}'`, { path }, { cause: e });
  }
}

/** `writeFileAtomic`'s temporary names: `.<file>.<pid>.<8 hex>.tmp`. */
const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files of atomic writes whose process was killed (SIGKILL leaves no chance to clean up;
 * a checkpoint's can be tens of MB) under `dir`, `depth` levels deep. Returns the paths removed.
 */
export async function removeOrphanedTemps(dir: string, depth = 1): Promise<string[]> {
  const removed: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory() && depth > 1) removed.push(...(await removeOrphanedTemps(path, depth - 1)));
    const m = e.isFile() ? TEMP_NAME.exec(e.name) : null;
    if (m && Number(m[1]) !== process.pid && !processRuns(Number(m[1]))) {
      await rm(path, { force: true });
      removed.push(path);
    }
  }
  return removed;
}
