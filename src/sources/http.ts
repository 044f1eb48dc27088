/** HTTP for the hub: URLs, redirects followed by hand (auth kept on the same origin only), error mapping. */
import { GraftError } from '../errors.js';
import type { HubConfig } from './config.js';

/** What a request is about, for error messages. */
export interface Target {
  readonly repo: string;
  readonly revision: string;
  readonly file?: string;
}

export interface HubResponse {
  readonly res: Response;
  /** Headers of the first response (a redirect carries the hub's metadata; the CDN's final answer may not). */
  readonly first: Headers;
  readonly url: string;
}

const MAX_REDIRECTS = 10;

export function resolveUrl(endpoint: string, repo: string, revision: string, file: string): string {
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${path}`;
}

function describe(t: Target): string {
  return t.file ? `'${t.file}' in hub repo '${t.repo}' at revision '${t.revision}'` : `hub repo '${t.repo}'`;
}

function httpError(res: Response, t: Target, url: string): GraftError {
  const ctx = { ...t, status: res.status, url };
  const hubCode = res.headers.get('x-error-code') ?? '';
  if (res.status === 404) {
    const what =
      hubCode === 'EntryNotFound'
        ? `file '${t.file}' not found in hub repo '${t.repo}' at revision '${t.revision}'`
        : hubCode === 'RevisionNotFound'
          ? `revision '${t.revision}' not found in hub repo '${t.repo}'`
          : hubCode === 'RepoNotFound'
            ? `hub repo '${t.repo}' not found`
            : `not found: ${describe(t)}`;
    return new GraftError('MODEL_NOT_FOUND', `${what} (HTTP 404 from ${url})`, ctx);
  }
  if (res.status === 401 || res.status === 403) {
    return new GraftError(
      'AUTH_ERROR',
      `access denied (HTTP ${res.status}) to ${describe(t)}: the repo may be private or gated, or may not exist. ` +
        'Set HF_TOKEN (or pass the token option) to a token that can read it.',
      ctx,
    );
  }
  return new GraftError(
    'NETWORK_ERROR',
    `hub answered HTTP ${res.status} ${res.statusText} for ${describe(t)}`,
    ctx,
  );
}

/** What a user without network access can do instead (the hub's own cache, a local directory, no weights). */
export const OFFLINE_CHOICES =
  'Without network access: HF_HUB_OFFLINE=1 uses a model already in the local cache (HF_HOME), ' +
  '--model file:<dir> a model directory in the Hugging Face layout, and for text --model tfidf needs no pre-trained model.';

export function transferError(
  e: unknown,
  t: Target,
  url: string,
  signal: AbortSignal | undefined,
): GraftError {
  if (e instanceof GraftError) return e;
  if (signal?.aborted)
    return new GraftError('CANCELLED', `download of ${describe(t)} was cancelled`, { ...t }, { cause: e });
  const reason = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
  return new GraftError(
    'NETWORK_ERROR',
    `cannot reach the model hub at ${new URL(url).origin} for ${describe(t)} (${reason}). ${OFFLINE_CHOICES}`,
    { ...t, url },
    { cause: e },
  );
}

/** fetch with redirects followed by hand; throws GraftError for HTTP errors and connection failures. */
export async function hubFetch(
  cfg: HubConfig,
  url: string,
  method: 'GET' | 'HEAD',
  target: Target,
  extra: Record<string, string> = {},
): Promise<HubResponse> {
  const origin = new URL(url).origin;
  let first: Headers | undefined;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const headers: Record<string, string> = { 'accept-encoding': 'identity', ...extra };
    if (cfg.token && new URL(url).origin === origin) headers.authorization = `Bearer ${cfg.token}`;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, redirect: 'manual', signal: cfg.signal });
    } catch (e) {
      throw transferError(e, target, url, cfg.signal);
    }
    first ??= res.headers;
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      url = new URL(location, url).href;
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw httpError(res, target, url);
    }
    return { res, first, url };
  }
  throw new GraftError('NETWORK_ERROR', `too many redirects for ${describe(target)}`, { ...target, url });
}

export interface FileMeta {
  readonly commit: string;
  /** Normalized: quotes and weak prefix removed. For LFS files this is the sha256 of the content. */
  readonly etag: string;
  readonly size: number | undefined;
}

function cleanEtag(v: string | null): string | undefined {
  if (!v) return undefined;
  return v.replace(/^W\//, '').replace(/^"|"$/g, '') || undefined;
}

/** HEAD on the resolve URL: commit, ETag (the linked one for LFS files) and size. */
export async function fileMeta(
  cfg: HubConfig,
  repo: string,
  revision: string,
  file: string,
): Promise<FileMeta> {
  const target = { repo, revision, file };
  const { res, first, url } = await hubFetch(
    cfg,
    resolveUrl(cfg.endpoint, repo, revision, file),
    'HEAD',
    target,
  );
  const pick = (name: string) => first.get(name) ?? res.headers.get(name);
  const commit = pick('x-repo-commit');
  const etag = cleanEtag(
    first.get('x-linked-etag') ?? first.get('etag') ?? pick('x-linked-etag') ?? pick('etag'),
  );
  const sizeText = pick('x-linked-size') ?? res.headers.get('content-length');
  if (!commit || !etag) {
    throw new GraftError(
      'NETWORK_ERROR',
      `${url} did not send ${!commit ? 'X-Repo-Commit' : 'ETag'}: is ${cfg.endpoint} a Hugging Face-compatible hub?`,
      { ...target, url },
    );
  }
  const size = sizeText !== null && /^\d+$/.test(sizeText) ? Number(sizeText) : undefined;
  return { commit, etag, size };
}
