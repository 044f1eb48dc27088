/**
 * How long the server waits for a client, and what it answers when the client is too slow or speaks broken
 * HTTP. Node enforces the header and whole-request deadlines (checked every `checkIntervalMs`, not node's
 * default 30 s, so a 408 comes on time); a request body that stops arriving — a stalled upload, a
 * Content-Length larger than what is sent, a chunked body that never ends — is answered 408 once no byte has
 * come for `receiveTimeoutMs`. Node's own 400/408/431 answers (malformed requests, slow headers, headers too
 * large) get graft's `{"error": {"code", "message"}}` shape.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Answer } from './http-errors.js';

/** Node's http server options for these deadlines (passed to `http.createServer` through fastify). */
export function receiveServerOptions(receiveTimeoutMs: number, timeoutMs: number) {
  return {
    headersTimeout: Math.min(receiveTimeoutMs, timeoutMs),
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(receiveTimeoutMs / 4))),
  };
}

const CLIENT_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: 'REQUEST_TIMEOUT',
    message: 'the request was not received in time (headers too slow, or the body stalled)',
  },
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: 'HEADERS_TOO_LARGE',
    message: 'request headers are too large',
  },
  HPE_INVALID_CHUNK_SIZE: { status: 400, code: 'BAD_REQUEST', message: 'malformed chunked body' },
  HPE_UNEXPECTED_CONTENT_LENGTH: {
    status: 400,
    code: 'BAD_REQUEST',
    message: 'both Content-Length and Transfer-Encoding given',
  },
};

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/** fastify's `clientErrorHandler`: errors node's HTTP parser raises before a request exists. */
export function clientErrorHandler(onAnswer: (status: number, code: string) => void) {
  return (err: NodeJS.ErrnoException, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const known = err.code ? CLIENT_ERRORS[err.code] : undefined;
    const status = known?.status ?? 400;
    const code = known?.code ?? 'BAD_REQUEST';
    const message = known?.message ?? `malformed HTTP request (${err.code ?? err.message})`;
    // a reply already under way for a request on this socket cannot be followed by another one
    const busy = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (socket.writable && !busy) {
      const body = JSON.stringify({ error: { code, message } });
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Bad Request'}\r\nConnection: close\r\n` +
          `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      onAnswer(status, code);
    }
    // Close once what is queued has been flushed: destroy() would drop an answer still in the socket's buffer
    // (ours, or fastify's reply to the request before the bad bytes), and the client would see no answer at all.
    socket.destroySoon();
  };
}

/**
 * Closes answered connections gracefully. Node closes a `Connection: close` socket as soon as the answer is
 * flushed; when the client is still sending a body graft refused (413 on its Content-Length, an error before
 * the upload ended), closing with unread bytes makes the kernel send a reset, which can discard the answer
 * before the client reads it. Instead, the server's side is ended (FIN after the answer) and the socket is kept
 * reading, bytes discarded, until the client closes its side or `lingerMs` passes.
 */
export function installLingeringClose(server: Server, lingerMs: number): void {
  server.on('connection', (socket: Socket) => {
    let lingering = false;
    socket.destroySoon = function lingeringClose(this: Socket): void {
      if (this.destroyed || lingering) return;
      lingering = true;
      const timer = setTimeout(() => this.destroy(), lingerMs);
      timer.unref();
      this.once('close', () => clearTimeout(timer));
      this.once('end', () => this.destroy());
      if (this.writable) this.end();
      this.resume();
    };
  });
}

const hasBody = (req: FastifyRequest): boolean => {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
};

/**
 * Answers 408 when a request's body stops arriving for `ms`: the socket's idle timer runs from the request's
 * start until its body has been read, and the connection is closed after the answer.
 */
export function installBodyDeadline(
  app: FastifyInstance,
  ms: number,
  send: (req: FastifyRequest, reply: FastifyReply, a: Answer) => FastifyReply,
): void {
  const timers = new WeakMap<FastifyRequest, () => void>();
  const stop = (req: FastifyRequest): void => {
    const onIdle = timers.get(req);
    if (!onIdle) return;
    timers.delete(req);
    req.raw.off('timeout', onIdle);
    req.raw.socket?.setTimeout(0);
  };
  app.addHook('onRequest', async (req, reply) => {
    if (!hasBody(req) || req.raw.complete) return;
    const onIdle = (): void => {
      stop(req);
      if (reply.sent) return void req.raw.socket?.destroy();
      reply.raw.once('finish', () => req.raw.socket?.destroy());
      send(req, reply.header('connection', 'close'), {
        statusCode: 408,
        body: {
          error: {
            code: 'REQUEST_TIMEOUT',
            message:
              `no request data for ${ms} ms: the body stalled or is shorter than its Content-Length ` +
              `(the limit is --receive-timeout-ms)`,
          },
        },
      });
    };
    timers.set(req, onIdle);
    req.raw.setTimeout(ms, onIdle);
    req.raw.once('end', () => stop(req));
  });
  app.addHook('onResponse', async (req) => stop(req));
}
