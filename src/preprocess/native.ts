/**
 * graft's native image addon (native/image, built by `npm install` with node-gyp against libjpeg-turbo, libpng
 * and libdeflate): decode + resample + normalise in one libuv thread-pool job, and whole-file reads. Optional:
 * when it is not built (or GRAFT_NATIVE=0), every image takes the sharp path.
 */
import { createRequire } from 'node:module';

export interface NativeImageAddon {
  preprocess(
    bytes: Uint8Array,
    format: 0 | 1 | 2,
    raw: Int32Array | null,
    geometry: Int32Array,
    tables: Float32Array,
    out: Float32Array,
    offset: number,
  ): Promise<void>;
  /** Whole files read in one thread-pool job; null where a file cannot be read. */
  readFiles(paths: readonly string[]): Promise<(Uint8Array | null)[]>;
  /** glibc keeps allocations up to `bytes` in its heap (no fresh mmap and page faults per buffer). */
  keepLargeAllocations(bytes: number): boolean;
}

let loaded: NativeImageAddon | null | undefined;
let loadError: string | undefined;

/** The addon, or undefined when it is not built or disabled with GRAFT_NATIVE=0. */
export function nativeImageAddon(): NativeImageAddon | undefined {
  if (loaded === undefined) {
    if (process.env['GRAFT_NATIVE'] === '0') {
      loaded = null;
      loadError = 'disabled by GRAFT_NATIVE=0';
    } else {
      try {
        const require = createRequire(import.meta.url);
        loaded = require('../../build/Release/graft_image.node') as NativeImageAddon;
      } catch (e) {
        loaded = null;
        loadError = e instanceof Error ? e.message.split('\n')[0] : String(e);
      }
    }
  }
  return loaded ?? undefined;
}

/** Why the addon is not in use (undefined when it is). */
export function nativeImageUnavailable(): string | undefined {
  nativeImageAddon();
  return loadError;
}
