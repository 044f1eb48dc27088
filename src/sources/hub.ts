/**
 * A Hugging Face–compatible hub client: files are fetched from `${endpoint}/${repo}/resolve/${revision}/${path}`
 * into a cache shared with huggingface_hub (layout in cache.ts). Offline mode reads the cache only.
 */
import { join } from 'node:path';
import { GraftError } from '../errors.js';
import {
  blobPath,
  checkRepoPath,
  COMMIT_SHA,
  exists,
  linkSnapshot,
  readRef,
  snapshotDir,
  writeRef,
} from './cache.js';
import { hubConfig, type HubConfig } from './config.js';
import { downloadBlob } from './download.js';
import { fileMeta } from './http.js';
import type { HubOptions } from './types.js';

const REPO = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function checkRepo(repo: string): string {
  if (!REPO.test(repo) || repo.includes('..')) {
    throw new GraftError('BAD_INPUT', `invalid hub repo '${repo}': expected <org>/<name>`, { repo });
  }
  return repo;
}

interface Fetched {
  readonly path: string;
  readonly commit: string;
}

/** The cached copy of a file, if the revision resolves (by sha or refs/) and the snapshot has the file. */
async function fromCache(cfg: HubConfig, repo: string, revision: string, file: string) {
  const commit = await readRef(cfg.cacheDir, repo, revision);
  if (!commit || !COMMIT_SHA.test(commit)) return undefined;
  const path = join(snapshotDir(cfg.cacheDir, repo, commit), ...file.split('/'));
  return (await exists(path)) ? { path, commit } : undefined;
}

function offlineMissing(repo: string, revision: string, file: string): GraftError {
  return new GraftError(
    'OFFLINE_MISSING',
    `offline mode: '${file}' of hub repo '${repo}' at revision '${revision}' is not in the cache. ` +
      `Run once while online without HF_HUB_OFFLINE (the same --model hub:${repo}@${revision} fills the cache), ` +
      'or copy it into the cache; --model file:<dir> takes a local model directory, and for text --model tfidf needs none.',
    { repo, revision, file },
  );
}

async function fetchFile(cfg: HubConfig, repo: string, revision: string, file: string): Promise<Fetched> {
  checkRepo(repo);
  checkRepoPath(file);
  if (cfg.offline) {
    const hit = await fromCache(cfg, repo, revision, file);
    if (hit) return hit;
    throw offlineMissing(repo, revision, file);
  }
  // A commit sha never changes what it names: a cached copy needs no request at all.
  if (COMMIT_SHA.test(revision)) {
    const hit = await fromCache(cfg, repo, revision, file);
    if (hit) return hit;
  }
  let meta;
  try {
    meta = await fileMeta(cfg, repo, revision, file);
  } catch (e) {
    // Hub unreachable (no HTTP answer at all): a cached copy of the revision is better than failing.
    if (e instanceof GraftError && e.code === 'NETWORK_ERROR' && e.context.status === undefined) {
      const hit = await fromCache(cfg, repo, revision, file);
      if (hit) return hit;
    }
    throw e;
  }
  const commit = meta.commit;
  const blob = blobPath(cfg.cacheDir, repo, meta.etag);
  const path = join(snapshotDir(cfg.cacheDir, repo, commit), ...file.split('/'));
  if (!(await exists(blob))) await downloadBlob(cfg, { repo, revision, file }, meta, blob);
  if (!(await exists(path))) await linkSnapshot(cfg.cacheDir, repo, commit, file, blob);
  await writeRef(cfg.cacheDir, repo, revision, commit);
  return { path, commit };
}

/**
 * Downloads one file of a hub repo (or finds it in the cache) and returns its local path,
 * `<cache>/models--org--name/snapshots/<commit>/<file>`.
 */
export async function hubDownload(repo: string, file: string, options: HubOptions = {}): Promise<string> {
  const cfg = hubConfig(options);
  return (await fetchFile(cfg, repo, cfg.revision, file)).path;
}

export interface HubSnapshot {
  /** `<cache>/models--org--name/snapshots/<commit>` */
  readonly dir: string;
  readonly commit: string;
  readonly files: readonly string[];
}

/**
 * Downloads several files of one revision and returns the snapshot directory. All files come from the same
 * commit: the first file pins the commit the revision pointed at, the rest are fetched at that commit.
 */
export async function hubSnapshotInfo(repo: string, files: readonly string[], options: HubOptions = {}) {
  const cfg = hubConfig(options);
  if (files.length === 0)
    throw new GraftError('BAD_INPUT', `no files requested from hub repo '${repo}'`, { repo });
  const first = await fetchFile(cfg, repo, cfg.revision, files[0]!);
  for (const file of files.slice(1)) await fetchFile(cfg, repo, first.commit, file);
  const info: HubSnapshot = {
    dir: snapshotDir(cfg.cacheDir, repo, first.commit),
    commit: first.commit,
    files,
  };
  return info;
}

/** Like `hubSnapshotInfo`, returning only the snapshot directory. */
export async function hubSnapshot(
  repo: string,
  files: readonly string[],
  options: HubOptions = {},
): Promise<string> {
  return (await hubSnapshotInfo(repo, files, options)).dir;
}
