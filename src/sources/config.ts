/** Hub options with their defaults merged in one place (options, then environment, then built-ins). */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { GraftError } from '../errors.js';
import type { HubOptions, ProgressEvent } from './types.js';

export interface HubConfig {
  readonly endpoint: string;
  readonly token: string | undefined;
  readonly cacheDir: string;
  readonly offline: boolean;
  readonly revision: string;
  readonly onProgress: ((event: ProgressEvent) => void) | undefined;
  readonly signal: AbortSignal | undefined;
  readonly staleLockMs: number;
  readonly lockTimeoutMs: number;
}

const TRUTHY = new Set(['1', 'true', 'yes', 'on']);

export function defaultCacheDir(env: Readonly<Record<string, string | undefined>>): string {
  if (env.HF_HUB_CACHE) return resolve(env.HF_HUB_CACHE);
  if (env.HF_HOME) return resolve(env.HF_HOME, 'hub');
  const xdg = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return resolve(xdg, 'huggingface', 'hub');
}

export function hubConfig(options: HubOptions = {}): HubConfig {
  const env = options.env ?? process.env;
  const endpoint = (options.endpoint ?? (env.HF_ENDPOINT || 'https://huggingface.co')).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(endpoint)) {
    throw new GraftError('BAD_OPTION', `hub endpoint must be an http(s) URL, got '${endpoint}'`, {
      endpoint,
    });
  }
  return {
    endpoint,
    token: options.token ?? (env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || undefined),
    cacheDir: options.cacheDir !== undefined ? resolve(options.cacheDir) : defaultCacheDir(env),
    offline: options.offline ?? TRUTHY.has((env.HF_HUB_OFFLINE ?? '').toLowerCase()),
    revision: options.revision ?? 'main',
    onProgress: options.onProgress,
    signal: options.signal,
    staleLockMs: options.staleLockMs ?? 60_000,
    lockTimeoutMs: options.lockTimeoutMs ?? 600_000,
  };
}
