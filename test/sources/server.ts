/**
 * A test hub on 127.0.0.1 speaking the Hugging Face file protocol: `/<org>/<name>/resolve/<rev>/<path>` with
 * X-Repo-Commit, ETag / X-Linked-Etag (sha256 for LFS files), X-Linked-Size and Range support, the model API
 * listing (`/api/models/<repo>/revision/<rev>`), a `/cdn/<sha256>` path for redirects, and switchable faults.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FixtureRepo {
  readonly repo: string;
  readonly commit: string;
  readonly files: ReadonlyMap<string, Buffer>;
  /** Files stored with LFS: their ETag is the sha256 of the content. */
  readonly lfs: ReadonlySet<string>;
}

export interface Faults {
  /** Every resolve request answers 404 RepoNotFound. */
  notFound?: boolean;
  /** When set, requests without `Authorization: Bearer <token>` get 401. */
  token?: string;
  /** LFS files answer 302 with a relative Location to `/cdn/<sha256>`. */
  redirect?: boolean;
  /** With `redirect`: an absolute Location on this origin (e.g. `http://localhost:<port>`), another host name. */
  redirectOrigin?: string;
  /** The next `cut` GETs of LFS content send half the body, then the socket is destroyed. */
  cut?: number;
  /** LFS content is served with one byte flipped (the ETag stays the true sha256). */
  wrongChecksum?: boolean;
  /** Range headers are ignored (always 200 with the whole file). */
  ignoreRange?: boolean;
  /** Delay between 16 KiB chunks of LFS content, to make transfers overlap. */
  throttleMs?: number;
}

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly range: string | undefined;
  readonly auth: string | undefined;
}

export interface TestHub {
  readonly endpoint: string;
  readonly fixture: FixtureRepo;
  faults: Faults;
  readonly requests: LoggedRequest[];
  close(): Promise<void>;
}

export const sha256 = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function makeFixture(repo = 'graft-test/tiny-model', modelBytes = 300 * 1024): FixtureRepo {
  const files = new Map<string, Buffer>([
    ['config.json', Buffer.from(JSON.stringify({ model_type: 'tiny', hidden_size: 8 }))],
    [
      'tokenizer.json',
      Buffer.from(JSON.stringify({ version: '1.0', model: { type: 'WordLevel', vocab: { a: 0 } } })),
    ],
    ['onnx/model.onnx', randomBytes(modelBytes)],
  ]);
  return { repo, commit: randomBytes(20).toString('hex'), files, lfs: new Set(['onnx/model.onnx']) };
}

async function sendBody(req: IncomingMessage, res: ServerResponse, body: Buffer, hub: TestHub, lfs: boolean) {
  const f = hub.faults;
  res.setHeader('Accept-Ranges', 'bytes');
  let start = 0;
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (range && !f.ignoreRange) {
    start = Number(range[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
      return;
    }
    res.statusCode = 206;
    res.setHeader('Content-Range', `bytes ${start}-${body.length - 1}/${body.length}`);
  }
  let data = body.subarray(start);
  if (lfs && f.wrongChecksum) {
    data = Buffer.from(data);
    data[data.length - 1]! ^= 0xff;
  }
  res.setHeader('Content-Length', data.length);
  if (req.method === 'HEAD') return void res.end();
  const cut = lfs && (f.cut ?? 0) > 0;
  if (cut) f.cut! -= 1;
  const end = cut ? Math.floor(data.length / 2) : data.length;
  const step = lfs && f.throttleMs ? 16 * 1024 : end;
  for (let i = 0; i < end; i += step) {
    await new Promise<void>((r) => res.write(data.subarray(i, Math.min(end, i + step)), () => r()));
    if (lfs && f.throttleMs) await sleep(f.throttleMs);
  }
  if (cut) {
    await sleep(30);
    res.socket?.destroy();
  } else res.end();
}

async function handle(hub: TestHub, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { fixture: fx, faults: f } = hub;
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  hub.requests.push({
    method: req.method ?? '',
    path,
    range: req.headers.range,
    auth: req.headers.authorization,
  });
  // Like a CDN with signed URLs, /cdn/ needs no token.
  if (f.token && !path.startsWith('/cdn/') && req.headers.authorization !== `Bearer ${f.token}`) {
    return void res.writeHead(401, { 'X-Error-Message': 'Invalid credentials' }).end('unauthorized');
  }
  const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(path);
  if (cdn) {
    const file = [...fx.lfs].find((p) => sha256(fx.files.get(p)!) === cdn[1]);
    if (!file) return void res.writeHead(404).end();
    res.setHeader('ETag', `"${cdn[1]}"`);
    return sendBody(req, res, fx.files.get(file)!, hub, true);
  }
  const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/(.+)$/.exec(path);
  if (api && api[1] === fx.repo && !f.notFound) {
    const siblings = [...fx.files.keys()].map((rfilename) => ({ rfilename }));
    return void res
      .writeHead(200, { 'Content-Type': 'application/json' })
      .end(JSON.stringify({ sha: fx.commit, siblings }));
  }
  const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
  if (!m || m[1] !== fx.repo || f.notFound)
    return void res.writeHead(404, { 'X-Error-Code': 'RepoNotFound' }).end();
  if (m[2] !== 'main' && m[2] !== fx.commit)
    return void res.writeHead(404, { 'X-Error-Code': 'RevisionNotFound' }).end();
  const body = fx.files.get(m[3]!);
  if (!body) return void res.writeHead(404, { 'X-Error-Code': 'EntryNotFound' }).end();
  res.setHeader('X-Repo-Commit', fx.commit);
  if (!fx.lfs.has(m[3]!)) {
    res.setHeader('ETag', `"${gitSha1(body)}"`);
    return sendBody(req, res, body, hub, false);
  }
  const sha = sha256(body);
  res.setHeader('X-Linked-Etag', `"${sha}"`);
  res.setHeader('X-Linked-Size', String(body.length));
  if (f.redirect) return void res.writeHead(302, { Location: `${f.redirectOrigin ?? ''}/cdn/${sha}` }).end();
  res.setHeader('ETag', `"${sha}"`);
  return sendBody(req, res, body, hub, true);
}

export async function startHub(fixture: FixtureRepo = makeFixture(), faults: Faults = {}): Promise<TestHub> {
  let hub: TestHub | undefined;
  const server = createServer((req, res) => {
    handle(hub!, req, res).catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  hub = {
    endpoint: `http://127.0.0.1:${port}`,
    fixture,
    faults,
    requests: [],
    close() {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
  return hub;
}
