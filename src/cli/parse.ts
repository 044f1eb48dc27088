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
