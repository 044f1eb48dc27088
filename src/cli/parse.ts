/** Flag value parsing with one clear BAD_OPTION error per mistake. */
import { GraftError } from '../errors.js';

export function number(
  name: string,
  value: string | undefined,
  options: { integer?: boolean; min?: number } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const bad =
    value.trim() === '' ||
    !Number.isFinite(n) ||
    (options.integer && !Number.isInteger(n)) ||
    (options.min !== undefined && n < options.min);
  if (bad) {
    const kind = options.integer ? 'an integer' : 'a number';
    const floor = options.min !== undefined ? ` ≥ ${options.min}` : '';
    throw new GraftError('BAD_OPTION', `--${name} must be ${kind}${floor}, got '${value}'`, { option: name });
  }
  return n;
}

export function choice<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new GraftError('BAD_OPTION', `--${name} must be one of ${allowed.join(', ')}; got '${value}'`, {
      option: name,
    });
  }
  return value as T;
}

export function list(name: string, value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  return value.split(',').map((v) => number(name, v, { integer: true, min: 1 })!);
}

/** A duration: `90` or `90s` (seconds), `5m`, `1h`. Returns seconds. */
export function duration(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(value.trim());
  if (!m || Number(m[1]) <= 0)
    throw new GraftError('BAD_OPTION', `--${name} must be a duration such as 90s, 5m or 1h; got '${value}'`, {
      option: name,
    });
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 's' | 'm' | 'h'];
}

/** A dropout probability, in [0, 1). */
export function dropout(name: string, value: string | undefined): number | undefined {
  const p = number(name, value, { min: 0 });
  if (p !== undefined && p >= 1)
    throw new GraftError('BAD_OPTION', `--${name} must be in [0, 1), got '${value}'`, { option: name });
  return p;
}
