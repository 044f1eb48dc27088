/**
 * Atomic writes: a file or a whole directory is written as a temporary sibling, fsynced, then renamed over the
 * target; `removeOrphanedTemps` clears the temporaries of writes whose process was killed.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GraftError } from '../errors.js';

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
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

/** A temporary sibling name of `path` that `removeOrphanedTemps` recognises: `.<name>[.<tag>].<pid>.<8 hex>.tmp`. */
function tempSibling(path: string, tag?: string): string {
  const name = tag ? `${basename(path)}.${tag}` : basename(path);
  return join(dirname(path), `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

async function syncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes the directory `path` holding `files` (name → bytes) atomically: into a temporary sibling, every file
 * and the directory fsynced, then renamed into place (an existing `path` is replaced: moved aside first, removed
 * after). Readers see the old directory or the complete new one, never a part.
 */
export async function writeDirAtomic(
  path: string,
  files: Readonly<Record<string, Uint8Array | string>>,
): Promise<void> {
  const parent = dirname(path);
  const tmp = tempSibling(path);
  let old: string | undefined;
  try {
    await mkdir(parent, { recursive: true });
    await mkdir(tmp);
    for (const [name, data] of Object.entries(files)) {
      const fh = await open(join(tmp, name), 'w');
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    await syncPath(tmp);
    if (await stat(path).catch(() => undefined)) {
      old = tempSibling(path, 'old');
      await rename(path, old);
    }
    await rename(tmp, path);
    await syncPath(parent);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw new GraftError('IO_ERROR', `cannot write '${path}'`, { path }, { cause: e });
  }
  if (old) await rm(old, { recursive: true, force: true });
}

/** The temporary names of atomic writes: `.<name>.<pid>.<8 hex>.tmp`. */
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
 * Removes the temporary files and directories of atomic writes whose process was killed (SIGKILL leaves no chance
 * to clean up; a checkpoint's can be tens of MB) under `dir`, `depth` levels deep. Returns the paths removed.
 */
export async function removeOrphanedTemps(dir: string, depth = 1): Promise<string[]> {
  const removed: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const path = join(dir, e.name);
    const m = e.isFile() || e.isDirectory() ? TEMP_NAME.exec(e.name) : null;
    if (m && Number(m[1]) !== process.pid && !processRuns(Number(m[1]))) {
      await rm(path, { recursive: true, force: true });
      removed.push(path);
    } else if (!m && e.isDirectory() && depth > 1)
      removed.push(...(await removeOrphanedTemps(path, depth - 1)));
  }
  return removed;
}
