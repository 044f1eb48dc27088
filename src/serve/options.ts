/** `graft serve` options: one type, defaults merged in one place, sizes like '10mb' parsed here. */
import { GraftError } from '../errors.js';
import { DEFAULT_MAX_PIXELS } from '../preprocess/limits.js';

export interface ServeOptions {
  /** TCP port (default 8080; 0 picks a free one). */
  port?: number;
  /** Interface to bind (default 127.0.0.1: loopback only). */
  host?: string;
  /** Most images (rows) one session.run takes (default 32). */
  maxBatch?: number;
  /** How long the first queued request waits for others to join its batch (default 5 ms). */
  maxWaitMs?: number;
  /** Request body limit: bytes, or a string like '10mb', '512kb' (default '10mb'). */
  bodyLimit?: number | string;
  /** Per-request time limit in ms, receiving the body through to the reply (default 30000). */
  timeoutMs?: number;
  /**
   * How long to wait for a request's headers, or for the next bytes of its body, before answering 408
   * (default 5000): a stalled upload or a lying Content-Length does not hold a connection for long.
   */
  receiveTimeoutMs?: number;
  /** Most files one multipart request may carry (default 256). */
  maxFiles?: number;
  /** Largest image accepted, in pixels (width × height from its header, before decoding; default 40 MP). */
  maxPixels?: number;
  /** ONNX Runtime intra-op threads (default: number of CPU cores). */
  threads?: number;
  /** Name reported as `model` in responses (default: the model directory's base name). */
  modelId?: string;
  /** Serve model.int8.onnx (written by `graft quantize`) instead of model.onnx (default false). */
  int8?: boolean;
  /** Log requests to stderr with fastify's logger (default false). */
  log?: boolean;
}

export interface ResolvedServeOptions {
  port: number;
  host: string;
  maxBatch: number;
  maxWaitMs: number;
  bodyLimit: number;
  timeoutMs: number;
  receiveTimeoutMs: number;
  maxFiles: number;
  maxPixels: number;
  threads: number | undefined;
  modelId: string | undefined;
  int8: boolean;
  log: boolean;
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1024,
  k: 1024,
  mb: 1024 ** 2,
  m: 1024 ** 2,
  gb: 1024 ** 3,
  g: 1024 ** 3,
};

/** Parses '10mb', '512kb', '1048576' or a number into bytes. */
export function parseSize(value: number | string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value > 0) return Math.floor(value);
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
    const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
    if (m && unit !== undefined && Number(m[1]) > 0) return Math.floor(Number(m[1]) * unit);
  }
  throw new GraftError('BAD_OPTION', `invalid size '${value}' (use e.g. 10mb, 512kb or a byte count)`, {
    value,
  });
}

function int(name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) {
    throw new GraftError('BAD_OPTION', `--${name} must be an integer ≥ ${min}, got ${String(value)}`, {
      option: name,
    });
  }
  return v;
}

export function resolveServeOptions(options: ServeOptions = {}): ResolvedServeOptions {
  const port = int('port', options.port, 8080, 0);
  if (port > 65535) throw new GraftError('BAD_OPTION', `--port must be ≤ 65535, got ${port}`);
  const maxWait = options.maxWaitMs ?? 5;
  if (!Number.isFinite(maxWait) || maxWait < 0)
    throw new GraftError('BAD_OPTION', `--max-wait-ms must be ≥ 0, got ${maxWait}`);
  return {
    port,
    host: options.host ?? '127.0.0.1',
    maxBatch: int('max-batch', options.maxBatch, 32, 1),
    maxWaitMs: maxWait,
    bodyLimit: parseSize(options.bodyLimit ?? '10mb'),
    timeoutMs: int('timeout-ms', options.timeoutMs, 30000, 1),
    receiveTimeoutMs: int('receive-timeout-ms', options.receiveTimeoutMs, 5000, 1),
    maxFiles: int('max-files', options.maxFiles, 256, 1),
    maxPixels: int('max-pixels', options.maxPixels, DEFAULT_MAX_PIXELS, 1),
    threads: options.threads === undefined ? undefined : int('threads', options.threads, 1, 1),
    modelId: options.modelId,
    int8: options.int8 ?? false,
    log: options.log ?? false,
  };
}
