/**
 * Downloads one blob into the cache: under an exclusive lock, into `<blob>.incomplete` (resumed with a Range
 * request when it already exists), verified against the sha256 ETag when there is one, then renamed into place.
 * A blob path therefore only ever holds a whole, verified file.
 */
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GraftError } from '../errors.js';
import type { HubConfig } from './config.js';
import { exists } from './cache.js';
import { hubFetch, resolveUrl, transferError, type FileMeta, type Target } from './http.js';
import { acquireLock } from './lock.js';
import { SHA256_HEX, sha256File } from './sha256.js';

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Start offset of a 206 answer (`Content-Range: bytes START-END/TOTAL`), and the total if given. */
function contentRange(res: Response): { start: number; total: number | undefined } | undefined {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
  return m ? { start: Number(m[1]), total: m[2] === '*' ? undefined : Number(m[2]) } : undefined;
}

/** One GET, appended to the partial file. Returns the expected total size when the server said it. */
async function fetchInto(
  cfg: HubConfig,
  t: Target & { file: string },
  partial: string,
  size: number | undefined,
) {
  let offset = await sizeOf(partial);
  if (size !== undefined && offset > size) {
    await rm(partial, { force: true });
    offset = 0;
  }
  if (size !== undefined && offset === size) return size;
  const url = resolveUrl(cfg.endpoint, t.repo, t.revision, t.file);
  const range: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
  let got;
  try {
    got = await hubFetch(cfg, url, 'GET', t, range);
  } catch (e) {
    // 416: our partial does not fit what the server has any more; start over once.
    if (offset > 0 && e instanceof GraftError && e.context.status === 416) {
      await rm(partial, { force: true });
      return fetchInto(cfg, t, partial, size);
    }
    throw e;
  }
  const { res } = got;
  let total = size;
  if (res.status === 206) {
    const cr = contentRange(res);
    if (!cr || cr.start !== offset) {
      await res.body?.cancel();
      await rm(partial, { force: true });
      throw new GraftError('NETWORK_ERROR', `server answered a range request with the wrong range`, {
        ...t,
        url,
      });
    }
    total ??= cr.total;
  } else {
    offset = 0; // a server that ignores Range sends the whole file: start over
    const len = res.headers.get('content-length');
    if (total === undefined && len !== null && /^\d+$/.test(len)) total = Number(len);
  }
  const fh = await open(partial, offset > 0 ? 'a' : 'w');
  let bytes = offset;
  try {
    cfg.onProgress?.({ file: t.file, bytes, total });
    if (res.body) {
      // Node's web streams are async-iterable (the DOM typings do not say so).
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        await fh.write(chunk);
        bytes += chunk.byteLength;
        cfg.onProgress?.({ file: t.file, bytes, total });
      }
    }
    await fh.sync();
  } catch (e) {
    throw transferError(e, t, url, cfg.signal);
  } finally {
    await fh.close();
  }
  return total;
}

/** Ensures `blob` holds the file described by `meta`; safe against concurrent processes. */
export async function downloadBlob(
  cfg: HubConfig,
  t: Target & { file: string },
  meta: FileMeta,
  blob: string,
) {
  await mkdir(dirname(blob), { recursive: true });
  const lock = await acquireLock(`${blob}.lock`, {
    staleMs: cfg.staleLockMs,
    timeoutMs: cfg.lockTimeoutMs,
    signal: cfg.signal,
    done: () => exists(blob),
  });
  if (!lock) return;
  try {
    if (await exists(blob)) return;
    const partial = `${blob}.incomplete`;
    const total = await fetchInto(cfg, t, partial, meta.size);
    const got = await sizeOf(partial);
    if (total !== undefined && got < total) {
      throw new GraftError(
        'NETWORK_ERROR',
        `download of '${t.file}' from '${t.repo}' ended after ${got} of ${total} bytes; run again to resume`,
        { ...t, bytes: got, total },
      );
    }
    const fail = async (why: string) => {
      await rm(partial, { force: true });
      return new GraftError('CHECKSUM_MISMATCH', `'${t.file}' from '${t.repo}' is corrupt: ${why}`, {
        ...t,
        etag: meta.etag,
      });
    };
    if (total !== undefined && got > total) throw await fail(`got ${got} bytes, expected ${total}`);
    if (SHA256_HEX.test(meta.etag)) {
      const actual = await sha256File(partial);
      if (actual !== meta.etag) throw await fail(`sha256 ${actual}, expected ${meta.etag}`);
    }
    await rename(partial, blob);
  } finally {
    await lock.release();
  }
}
