/** Listing a repo's files: the hub's model API online, the cached snapshot offline. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GraftError } from '../errors.js';
import { COMMIT_SHA, readRef, snapshotDir } from './cache.js';
import { hubConfig } from './config.js';
import { hubFetch, transferError } from './http.js';
import { checkRepo } from './hub.js';
import type { HubOptions } from './types.js';

/** Files under `dir` (following symlinks to blobs), as repo-relative paths with `/`. */
async function walk(dir: string, prefix: string): Promise<string[]> {
  const entries = await readdir(join(dir, prefix), { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(dir, rel)));
    else if (!e.name.startsWith('.')) out.push(rel);
  }
  return out;
}

interface ModelInfo {
  sha?: unknown;
  siblings?: unknown;
}

/** Files of a repo at a revision (`GET /api/models/<repo>/revision/<rev>`, or the cache when offline). */
export async function hubListFiles(repo: string, options: HubOptions = {}): Promise<string[]> {
  const cfg = hubConfig(options);
  checkRepo(repo);
  const target = { repo, revision: cfg.revision };
  if (cfg.offline) {
    const commit = await readRef(cfg.cacheDir, repo, cfg.revision);
    const dir = commit && COMMIT_SHA.test(commit) ? snapshotDir(cfg.cacheDir, repo, commit) : undefined;
    const files = dir ? (await walk(dir, '')).sort() : [];
    if (files.length > 0) return files;
    throw new GraftError(
      'OFFLINE_MISSING',
      `offline mode: hub repo '${repo}' at revision '${cfg.revision}' is not in the cache; fetch it once while online`,
      target,
    );
  }
  const url = `${cfg.endpoint}/api/models/${repo}/revision/${encodeURIComponent(cfg.revision)}`;
  const { res } = await hubFetch(cfg, url, 'GET', target, { accept: 'application/json' });
  let info: ModelInfo;
  try {
    info = (await res.json()) as ModelInfo;
  } catch (e) {
    throw transferError(e, target, url, cfg.signal);
  }
  const siblings = Array.isArray(info.siblings) ? (info.siblings as { rfilename?: unknown }[]) : [];
  return siblings.map((s) => s.rfilename).filter((f): f is string => typeof f === 'string');
}
