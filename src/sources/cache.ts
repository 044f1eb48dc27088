/**
 * The on-disk cache, laid out like huggingface_hub's so both can share it:
 *
 *   <cacheDir>/models--<org>--<name>/
 *     blobs/<etag>                      file contents, named by the hub's ETag (sha256 for LFS files)
 *     blobs/<etag>.incomplete           a partial download, resumed with a Range request
 *     blobs/<etag>.lock                 held by the process downloading that blob
 *     snapshots/<commit>/<path>         relative symlink to ../../blobs/<etag> (a copy where symlinks fail)
 *     refs/<revision>                   the commit sha a branch or tag pointed at when last resolved
 *
 * Snapshot entries are symlinks (as huggingface_hub makes them) so a blob shared by several commits is stored
 * once; on file systems without symlinks (Windows without developer mode) the blob is copied instead.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, stat, symlink } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { GraftError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';

export const COMMIT_SHA = /^[0-9a-f]{40}$/;
const SAFE_NAME = /^[A-Za-z0-9._-]+$/;

export function repoDir(cacheDir: string, repo: string): string {
  return join(cacheDir, `models--${repo.split('/').join('--')}`);
}

/** Checks a repo-relative file path: no absolute paths, no `..`, no empty segments. */
export function checkRepoPath(file: string): string {
  const parts = file.split('/');
  if (
    file === '' ||
    file.startsWith('/') ||
    file.includes('\\') ||
    parts.some((p) => p === '' || p === '..' || p === '.')
  ) {
    throw new GraftError('BAD_INPUT', `invalid file path in repository: '${file}'`, { file });
  }
  return file;
}

/** Checks a name (commit, etag) before it becomes a file name. */
export function checkSafeName(kind: string, value: string): string {
  if (!SAFE_NAME.test(value) || value === '.' || value === '..') {
    throw new GraftError('NETWORK_ERROR', `hub sent an unusable ${kind}: '${value}'`, { [kind]: value });
  }
  return value;
}

export function blobPath(cacheDir: string, repo: string, etag: string): string {
  return join(repoDir(cacheDir, repo), 'blobs', checkSafeName('etag', etag));
}

export function snapshotDir(cacheDir: string, repo: string, commit: string): string {
  return join(repoDir(cacheDir, repo), 'snapshots', checkSafeName('commit', commit));
}

function refPath(cacheDir: string, repo: string, revision: string): string {
  if (revision.split('/').some((p) => p === '' || p === '..' || p === '.')) {
    throw new GraftError('BAD_INPUT', `invalid revision '${revision}'`, { revision });
  }
  return join(repoDir(cacheDir, repo), 'refs', ...revision.split('/'));
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** The commit a revision resolves to from the cache alone: a commit sha as is, else `refs/<revision>`. */
export async function readRef(cacheDir: string, repo: string, revision: string): Promise<string | undefined> {
  if (COMMIT_SHA.test(revision)) return revision;
  try {
    const commit = (await readFile(refPath(cacheDir, repo, revision), 'utf8')).trim();
    return commit === '' ? undefined : commit;
  } catch {
    return undefined;
  }
}

export async function writeRef(
  cacheDir: string,
  repo: string,
  revision: string,
  commit: string,
): Promise<void> {
  if (revision === commit) return;
  if ((await readRef(cacheDir, repo, revision)) === commit) return;
  await writeFileAtomic(refPath(cacheDir, repo, revision), commit);
}

/** Makes `snapshots/<commit>/<file>` point at the blob (atomically: link at a temp name, then rename). */
export async function linkSnapshot(
  cacheDir: string,
  repo: string,
  commit: string,
  file: string,
  blob: string,
) {
  const target = join(snapshotDir(cacheDir, repo, commit), ...checkRepoPath(file).split('/'));
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempName(target);
  try {
    try {
      await symlink(relative(dirname(target), blob), tmp);
    } catch {
      await copyFile(blob, tmp);
    }
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new GraftError(
      'IO_ERROR',
      `cannot create snapshot entry '${target}'`,
      { path: target },
      { cause: e },
    );
  }
  return target;
}
