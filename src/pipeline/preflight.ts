/**
 * Checks, before any data is extracted or any step trained, that the places a run will write to can be written:
 * the model directory (`out`) and the feature cache. A file where a directory should be, a read-only or
 * permission-less place, or a kernel file system (/proc, /sys, /dev) is IO_ERROR naming the path (exit 8), not a
 * failure after an hour of training. Also finishes a model-directory write a killed run left half done, and
 * removes temporary files killed atomic writes left behind there.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { GraftError } from '../errors.js';
import { MANIFEST_FILE, recoverModelDir } from '../export/manifest.js';
import { defaultCacheDir } from '../features/extract.js';
import { removeOrphanedTemps } from '../util/atomic.js';

export interface PreflightTargets {
  /** The model directory the run will write (undefined: none). */
  out?: string;
  /** The feature cache directory (false: no cache; undefined: the default one). */
  cacheDir?: string | false;
  /** What the model directory is called in messages (default '--out'). */
  outFlag?: string;
}

const KERNEL_FS = ['/proc', '/sys', '/dev'];

const ioError = (path: string, why: string, cause?: unknown): GraftError =>
  new GraftError('IO_ERROR', why, { path }, cause === undefined ? undefined : { cause });

/** Entries that may sit in a directory that is about to become a model directory. */
const RESUMABLE = (name: string): boolean =>
  name.startsWith('.') || name === 'checkpoints' || /^checkpoint-\d+$/.test(name) || name === 'runs';

/** The deepest existing ancestor of `path` (itself included), after checking that none of them is a file. */
async function existingAncestor(path: string, flag: string): Promise<string> {
  let at = path;
  for (;;) {
    const st = await stat(at).catch((e: NodeJS.ErrnoException) => e);
    if (!(st instanceof Error)) {
      if (!st.isDirectory())
        throw ioError(
          at,
          at === path
            ? `${flag} '${path}' is a file, not a directory`
            : `${flag} '${path}' cannot be created: '${at}' is a file`,
        );
      return at;
    }
    if (st.code !== 'ENOENT') throw ioError(at, `${flag} '${path}': cannot access '${at}' (${st.code})`, st);
    const up = dirname(at);
    if (up === at) return at;
    at = up;
  }
}

/** Creates and removes a probe file in `dir`: the one check that holds for read-only mounts and for root too. */
async function probeWritable(dir: string, path: string, flag: string): Promise<void> {
  const probe = join(dir, `.graft-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const fh = await open(probe, 'wx');
    await fh.close();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    const why =
      code === 'EROFS'
        ? 'is on a read-only file system'
        : code === 'EACCES' || code === 'EPERM'
          ? 'is not writable (permission denied)'
          : `cannot be written (${code})`;
    throw ioError(path, `${flag} '${path}' ${why}${dir !== path ? ` ('${dir}')` : ''}`, e);
  }
  await rm(probe, { force: true });
}

function refuseKernelFs(path: string, flag: string): void {
  if (KERNEL_FS.some((k) => path === k || path.startsWith(`${k}/`)))
    throw ioError(
      path,
      `${flag} '${path}' is on a kernel file system (${path.split('/')[1]}); choose a real directory`,
    );
}

async function checkOut(out: string, flag: string): Promise<void> {
  const path = resolve(out);
  refuseKernelFs(path, flag);
  await recoverModelDir(path).catch(() => undefined);
  const ancestor = await existingAncestor(path, flag);
  if (ancestor === path) {
    const entries = await readdir(path).catch((e: unknown) => {
      throw ioError(path, `${flag} '${path}' cannot be read`, e);
    });
    if (!entries.includes(MANIFEST_FILE) && !entries.every(RESUMABLE))
      throw ioError(
        path,
        `${flag} '${path}' holds other files and no ${MANIFEST_FILE}: a model directory is replaced as a whole, ` +
          `so choose a new or empty directory (or an earlier model's)`,
      );
    await removeOrphanedTemps(path, 3);
    // the new directory is built beside this one and renamed into place: its parent must be writable too
    await probeWritable(dirname(path), path, flag);
  } else {
    await probeWritable(ancestor, path, flag);
  }
}

async function checkCache(dir: string): Promise<void> {
  const path = resolve(dir);
  refuseKernelFs(path, '--cache-dir');
  const ancestor = await existingAncestor(path, '--cache-dir');
  await probeWritable(ancestor, path, '--cache-dir');
}

/** Throws IO_ERROR naming the path when a run could not write its results; see the file comment. */
export async function preflight(targets: PreflightTargets): Promise<void> {
  if (targets.out) await checkOut(targets.out, targets.outFlag ?? '--out');
  if (targets.cacheDir !== false) await checkCache(targets.cacheDir ?? defaultCacheDir());
}
