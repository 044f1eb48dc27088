/**
 * graft's N-API addons (native/*, built by `npm install` into build/Release): each is optional, loaded once, and
 * every caller has a path of its own when one is absent. GRAFT_NATIVE=0 turns the compute addons off (image,
 * optimizer, convolution), so tests and users can compare against those paths.
 */
import { createRequire } from 'node:module';

export interface LoadedAddon<T> {
  addon: T | undefined;
  /** Why `addon` is undefined: disabled, or the loader's first line of error. */
  unavailable?: string;
}

const loaded = new Map<string, LoadedAddon<unknown>>();

/**
 * build/Release/`file`.node; `honourNativeSwitch` false for addons with a switch of their own (the heap addon's
 * GRAFT_RETAIN_HEAP).
 */
export function loadAddon<T>(file: string, honourNativeSwitch = true): LoadedAddon<T> {
  let entry = loaded.get(file);
  if (!entry) {
    if (honourNativeSwitch && process.env['GRAFT_NATIVE'] === '0')
      entry = { addon: undefined, unavailable: 'disabled by GRAFT_NATIVE=0' };
    else
      try {
        entry = { addon: createRequire(import.meta.url)(`../../build/Release/${file}.node`) as unknown };
      } catch (e) {
        entry = { addon: undefined, unavailable: e instanceof Error ? e.message.split('\n')[0] : String(e) };
      }
    loaded.set(file, entry);
  }
  return entry as LoadedAddon<T>;
}
