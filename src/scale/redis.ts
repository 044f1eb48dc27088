/**
 * Redis connections for the queue: the URL checked once up front (an unreachable server is a NETWORK_ERROR
 * naming it), then connections that retry for as long as the run lasts, so a Redis restart is ridden out.
 */
import { Redis } from 'ioredis';
import { GraftError } from '../errors.js';

/** The queue every graft coordinator and worker on one Redis shares (jobs say which model they need). */
export const QUEUE_NAME = 'graft-shards';

/** Accepts redis://[user:password@]host[:port][/db] and rediss://…; anything else is BAD_OPTION. */
export function parseQueueUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new GraftError('BAD_OPTION', `--queue must be a URL like redis://host:6379, got '${url}'`, { url });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new GraftError('BAD_OPTION', `--queue must be a redis:// or rediss:// URL, got '${url}'`, { url });
  return parsed;
}

/** The URL without its password, for messages. */
export function describeUrl(url: string): string {
  const u = parseQueueUrl(url);
  if (u.password) u.password = '***';
  return u.toString().replace(/\/$/, '');
}

/** Fails fast with NETWORK_ERROR when nothing answers a PING at `url` within `timeoutMs`. */
export async function checkRedis(url: string, timeoutMs = 5000): Promise<void> {
  parseQueueUrl(url);
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined); // reported below
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    throw new GraftError(
      'NETWORK_ERROR',
      `cannot reach Redis at ${describeUrl(url)}: ${e instanceof Error ? e.message : String(e)}`,
      { url: describeUrl(url) },
      { cause: e },
    );
  } finally {
    probe.disconnect();
  }
}

/**
 * A connection for BullMQ that reconnects forever (with a capped back-off) and keeps commands queued while the
 * server is away: BullMQ's workers require `maxRetriesPerRequest: null`.
 */
export function openRedis(url: string, onError?: (e: Error) => void): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
  });
  redis.on('error', (e: Error) => onError?.(e));
  return redis;
}
