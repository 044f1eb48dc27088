/**
 * graft's native image addon (native/image, built by `npm install` with node-gyp against libjpeg-turbo, libpng
 * and libdeflate): decode + resample + normalise in one libuv thread-pool job, and whole-file reads. Optional:
 * when it is not built (or GRAFT_NATIVE=0), every image takes the sharp path.
 */
import { loadAddon } from '../runtime/addons.js';

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
}

/** The addon, or undefined when it is not built or disabled with GRAFT_NATIVE=0. */
export function nativeImageAddon(): NativeImageAddon | undefined {
  return loadAddon<NativeImageAddon>('graft_image').addon;
}

/** Why the addon is not in use (undefined when it is). */
export function nativeImageUnavailable(): string | undefined {
  return loadAddon<NativeImageAddon>('graft_image').unavailable;
}
