/**
 * Writing a directory as a whole. Its files are written into a hidden sibling (`.<name>.graft-new-<pid>-<r>`),
 * which is renamed `.<name>.graft-ready-<pid>-<r>` once complete; the previous directory is then renamed aside
 * (`.<name>.graft-old-<pid>-<r>`), the ready one takes its name, what else the previous one held (checkpoints, files of
 * the user's) moves across, and the previous one is deleted. A process killed at any point leaves either the
 * previous directory or the new one under the name, or, between two renames, neither but a complete ready one
 * beside it: `recoverDirectory` (run before every write, and by `load()`) finishes what was interrupted.
 * Never a mixture of the two.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GraftError } from '../errors.js';

/** `.<name>.graft-<stage>-<pid of the writer>-<tag>` */
const SIBLING = /^\.(.+)\.graft-(new|ready|old)-(\d+)-([0-9a-f]+)$/;

export interface WholeDirOptions {
  /**
   * Names in the previous directory that belong to the model it held and are not carried into the new one
   * (the new one writes its own). Everything else there is moved across.
   */
  replaces: (name: string) => boolean;
}

interface Sibling {
  path: string;
  kind: 'new' | 'ready' | 'old';
  pid: number;
}

async function siblings(dir: string): Promise<Sibling[]> {
  const parent = dirname(dir);
  const name = basename(dir);
  const entries = await readdir(parent).catch(() => [] as string[]);
  const out: Sibling[] = [];
  for (const e of entries) {
    const m = SIBLING.exec(e);
    if (!m || m[1] !== name) continue;
    out.push({ path: join(parent, e), kind: m[2] as Sibling['kind'], pid: Number(m[3]) });
  }
  return out;
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

/** Whether another process with this id runs (this process's own siblings are leftovers of a failed write). */
function alive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r').catch(() => undefined);
  if (!fh) return;
  try {
    await fh.sync();
  } catch {
    // some file systems cannot fsync a directory; the renames are still ordered
  } finally {
    await fh.close();
  }
}

/** Moves what `from` holds besides the model's own files into `to` (where `to` has no such name yet). */
async function carryOver(from: string, to: string, options: WholeDirOptions): Promise<void> {
  const entries = await readdir(from).catch(() => [] as string[]);
  for (const e of entries) {
    if (options.replaces(e) || SIBLING.test(e) || (await exists(join(to, e)))) continue;
    await rename(join(from, e), join(to, e));
  }
}

/**
 * Finishes a write of `dir` that a killed process left half done: a complete ready sibling takes the name,
 * entries left in an old sibling move into `dir`, and abandoned staging siblings go. Siblings of a writer that
 * still runs are left to it.
 */
export async function recoverDirectory(dir: string, options: WholeDirOptions): Promise<void> {
  const found = (await siblings(dir)).filter((s) => !alive(s.pid));
  if (found.length === 0) return;
  for (const s of found.filter((x) => x.kind === 'ready')) {
    const aside = s.path.replace('.graft-ready-', '.graft-old-');
    if (await exists(dir)) await rename(dir, aside);
    await rename(s.path, dir).catch(async (e: unknown) => {
      // a concurrent recovery got there first
      if (!(await exists(dir))) throw e;
    });
  }
  for (const s of (await siblings(dir)).filter((x) => !alive(x.pid))) {
    if (s.kind === 'old') {
      if (await exists(dir)) await carryOver(s.path, dir, options);
      else await rename(s.path, dir);
      await rm(s.path, { recursive: true, force: true });
    } else if (s.kind === 'new') {
      await rm(s.path, { recursive: true, force: true });
    }
  }
}

/**
 * Writes `dir` as a whole: `write` fills a fresh staging directory, which then replaces `dir` as described
 * above. Errors are IO_ERROR naming the path; the staging directory is removed on failure.
 */
export async function writeDirectory(
  dir: string,
  options: WholeDirOptions,
  write: (staging: string) => Promise<void>,
): Promise<void> {
  const parent = dirname(dir);
  const name = basename(dir);
  const tag = randomBytes(6).toString('hex');
  const staging = join(parent, `.${name}.graft-new-${process.pid}-${tag}`);
  const ready = join(parent, `.${name}.graft-ready-${process.pid}-${tag}`);
  const aside = join(parent, `.${name}.graft-old-${process.pid}-${tag}`);
  const io = (what: string, e: unknown): GraftError =>
    e instanceof GraftError
      ? e
      : new GraftError(
          'IO_ERROR',
          `cannot ${what} '${dir}': ${(e as Error).message}`,
          { path: dir },
          { cause: e },
        );
  try {
    await mkdir(parent, { recursive: true });
    await recoverDirectory(dir, options);
    await mkdir(staging);
  } catch (e) {
    throw io('prepare', e);
  }
  try {
    await write(staging);
    await fsyncDir(staging);
    await rename(staging, ready);
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw io('write', e);
  }
  try {
    const previous = await exists(dir);
    if (previous) await rename(dir, aside);
    await rename(ready, dir);
    await fsyncDir(parent);
    if (previous) {
      await carryOver(aside, dir, options);
      await rm(aside, { recursive: true, force: true });
    }
  } catch (e) {
    throw io('replace', e);
  }
}
