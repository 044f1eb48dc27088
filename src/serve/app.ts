/**
 * `createServer(modelDir, options)`: a started fastify server for one graft model, with dynamic batching,
 * JSON errors, Prometheus metrics and a `close()` that stops accepting, finishes in-flight requests, then
 * releases the model.
 */
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { GraftError } from '../errors.js';
import { retainFreedMemory } from '../runtime/heap.js';
import { Batcher } from './batcher.js';
import { errorAnswer, notFound, type Answer } from './http-errors.js';
import { ServerMetrics } from './metrics.js';
import { loadServedModel, type ServedModel } from './model.js';
import { resolveServeOptions, type ResolvedServeOptions, type ServeOptions } from './options.js';
import {
  clientErrorHandler,
  installBodyDeadline,
  installLingeringClose,
  receiveServerOptions,
} from './receive.js';
import { registerRoutes } from './routes.js';

export interface GraftServer {
  readonly app: FastifyInstance;
  /** e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly model: ServedModel;
  readonly metrics: ServerMetrics;
  readonly options: ResolvedServeOptions;
  /** Stops accepting connections, lets in-flight requests finish, then releases the model. Idempotent. */
  close(): Promise<void>;
}

const errorCodes = new WeakMap<FastifyRequest, string>();

function send(req: FastifyRequest, reply: FastifyReply, a: Answer): FastifyReply {
  errorCodes.set(req, a.body.error.code);
  return reply.code(a.statusCode).type('application/json; charset=utf-8').send(a.body);
}

function instrument(app: FastifyInstance, metrics: ServerMetrics): void {
  const counted = new WeakSet<FastifyRequest>();
  const done = (req: FastifyRequest): void => {
    if (!counted.has(req)) return;
    counted.delete(req);
    metrics.inFlight.value--;
  };
  app.addHook('onRequest', async (req) => {
    counted.add(req);
    metrics.inFlight.value++;
  });
  app.addHook('onRequestAbort', async (req) => done(req));
  app.addHook('onResponse', async (req, reply) => {
    done(req);
    const route = req.routeOptions.url ?? 'unmatched';
    const status = String(reply.statusCode);
    metrics.requests.inc({ route, method: req.method, status });
    metrics.latency.observe(reply.elapsedTime / 1000);
    if (reply.statusCode >= 400) metrics.errors.inc({ route, code: errorCodes.get(req) ?? status });
  });
}

export async function createServer(modelDir: string, serveOptions: ServeOptions = {}): Promise<GraftServer> {
  const options = resolveServeOptions(serveOptions);
  // Every request allocates buffers of a few hundred KB (its body, decoding scratch; input tensors come from
  // the model's BufferPool): freed memory kept in the heap saves page faults per image (GRAFT_RETAIN_HEAP).
  retainFreedMemory();
  const model = await loadServedModel(modelDir, {
    ...(options.threads ? { threads: options.threads } : {}),
    ...(options.modelId ? { modelId: options.modelId } : {}),
    int8: options.int8,
  });
  const metrics = new ServerMetrics();
  const batcher = new Batcher(model.session, {
    maxBatch: options.maxBatch,
    maxWaitMs: options.maxWaitMs,
    outputName: model.manifest.output,
    onBatch: (rows, seconds) => {
      metrics.batchSize.observe(rows);
      metrics.inferenceSeconds.observe(seconds);
    },
  });

  const app = Fastify({
    logger: options.log,
    bodyLimit: options.bodyLimit,
    requestTimeout: options.timeoutMs,
    http: receiveServerOptions(options.receiveTimeoutMs, options.timeoutMs),
    clientErrorHandler: clientErrorHandler((status, code) => {
      metrics.requests.inc({ route: 'unmatched', method: 'unknown', status: String(status) });
      metrics.errors.inc({ route: 'unmatched', code });
    }),
    frameworkErrors: (e, req, reply) => {
      void send(req, reply, errorAnswer(e));
    },
    return503OnClosing: false,
    forceCloseConnections: 'idle',
  });
  instrument(app, metrics);
  let closing: Promise<void> | undefined;
  app.addHook('onRequest', async (req, reply) => {
    if (closing)
      return send(req, reply.header('connection', 'close'), {
        statusCode: 503,
        body: { error: { code: 'SHUTTING_DOWN', message: 'the server is shutting down' } },
      });
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  installBodyDeadline(app, options.receiveTimeoutMs, send);
  installLingeringClose(app.server, Math.min(2000, options.receiveTimeoutMs));
  for (const type of [/^image\/[\w.+-]+$/i, 'application/octet-stream']) {
    app.addContentTypeParser(type, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  }
  await app.register(multipart, {
    limits: { fileSize: options.bodyLimit, files: options.maxFiles, fields: options.maxFiles },
  });
  app.setErrorHandler((e, req, reply) => {
    const a = errorAnswer(e);
    if (a.statusCode >= 500) req.log.error(e);
    return send(req, reply, a);
  });
  app.setNotFoundHandler((req, reply) => send(req, reply, notFound(req.method, req.url)));
  registerRoutes(app, { model, batcher, metrics, options });

  try {
    await app.listen({ port: options.port, host: options.host });
  } catch (e) {
    await model.session.release();
    const why = e instanceof Error ? e.message : String(e);
    throw new GraftError(
      'IO_ERROR',
      `cannot listen on ${options.host}:${options.port}: ${why}`,
      {},
      { cause: e },
    );
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;

  const close = (): Promise<void> =>
    (closing ??= (async () => {
      // keep-alive connections that are busy now would hold server.close() open after their reply: sweep
      // them once they go idle (replies sent while closing also say `Connection: close`)
      const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
      }
      await batcher.drain();
      await model.session.release();
    })());

  return { app, url: `http://${urlHost}:${port}`, port, host: options.host, model, metrics, options, close };
}
