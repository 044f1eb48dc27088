/**
 * Loads TF.js model files from a directory or an installed npm package: `model.json` + binary shards, or
 * the bundled form nsfwjs ships (`model.min.js` exporting the model.json object, and `<shard>.min.js`
 * modules exporting each shard as a base64 string).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { GraftError } from '../errors.js';
import type { WeightsManifest } from '../importers/tfjs-weights.js';

/** A TF.js model.json (layers or graph model); `modelTopology` is read by the importers. */
export interface TfjsModelJson {
  readonly modelTopology: unknown;
  readonly weightsManifest: WeightsManifest;
  readonly format?: string;
  readonly generatedBy?: string;
  readonly convertedBy?: string;
  readonly signature?: unknown;
  readonly userDefinedMetadata?: unknown;
}

export interface TfjsModelFiles {
  readonly dir: string;
  readonly json: TfjsModelJson;
  /** Shard bytes by manifest path. */
  readonly shards: Map<string, Uint8Array>;
}

const requireHere = createRequire(import.meta.url);

function isModelJson(v: unknown): v is TfjsModelJson {
  return typeof v === 'object' && v !== null && 'modelTopology' in v && 'weightsManifest' in v;
}

/** Requires a bundled CommonJS module and drops it from the require cache (shards are large). */
function requireOnce(path: string): unknown {
  const req = createRequire(path);
  const resolved = req.resolve(path);
  try {
    return req(resolved);
  } finally {
    delete req.cache[resolved];
  }
}

/** True when `dir` holds a TF.js model (model.json or model.min.js). */
export function hasTfjsModel(dir: string): boolean {
  return existsSync(join(dir, 'model.json')) || existsSync(join(dir, 'model.min.js'));
}

async function readShard(dir: string, path: string): Promise<Uint8Array> {
  const bin = join(dir, path);
  if (existsSync(bin)) return new Uint8Array(await readFile(bin));
  const bundled = join(dir, `${path}.min.js`);
  if (existsSync(bundled)) {
    const b64 = requireOnce(bundled);
    if (typeof b64 !== 'string') {
      throw new GraftError('CORRUPT_MODEL', `'${bundled}' does not export a base64 string`, {
        file: bundled,
      });
    }
    return new Uint8Array(Buffer.from(b64, 'base64'));
  }
  throw new GraftError('MODEL_NOT_FOUND', `weight shard '${path}' not found in '${dir}'`, {
    dir,
    shard: path,
  });
}

/** Loads a TF.js model directory: model.json (or model.min.js) and every shard its manifest names. */
export async function loadTfjsModelDir(dir: string): Promise<TfjsModelFiles> {
  const jsonPath = join(dir, 'model.json');
  const bundlePath = join(dir, 'model.min.js');
  let json: unknown;
  if (existsSync(jsonPath)) {
    try {
      json = JSON.parse(await readFile(jsonPath, 'utf8'));
    } catch (e) {
      throw new GraftError(
        'CORRUPT_MODEL',
        `'${jsonPath}' is not valid JSON`,
        { file: jsonPath },
        { cause: e },
      );
    }
  } else if (existsSync(bundlePath)) {
    json = requireOnce(bundlePath);
  } else {
    throw new GraftError('MODEL_NOT_FOUND', `no model.json or model.min.js in '${dir}'`, { dir });
  }
  if (!isModelJson(json)) {
    throw new GraftError('CORRUPT_MODEL', `'${dir}' holds no TF.js model (modelTopology/weightsManifest)`, {
      dir,
    });
  }
  const shards = new Map<string, Uint8Array>();
  for (const group of json.weightsManifest) {
    for (const p of group.paths) shards.set(p, await readShard(dir, p));
  }
  return { dir, json, shards };
}

/** The root directory of an installed npm package (works whatever its `exports` map allows). */
export function packageDir(pkg: string, resolveFrom?: string): string {
  const req = resolveFrom ? createRequire(resolveFrom) : requireHere;
  let entry: string;
  try {
    entry = req.resolve(pkg);
  } catch (e) {
    throw new GraftError(
      'MODEL_NOT_FOUND',
      `npm package '${pkg}' is not installed`,
      { package: pkg },
      { cause: e },
    );
  }
  let dir = dirname(entry);
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && dir.endsWith(join('node_modules', pkg))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new GraftError('MODEL_NOT_FOUND', `cannot locate the directory of npm package '${pkg}'`, {
    package: pkg,
  });
}

/** Loads a TF.js model from `<package>/<path>` of an installed npm package. */
export async function loadNpmTfjsModel(
  pkg: string,
  path: string,
  resolveFrom?: string,
): Promise<TfjsModelFiles> {
  const root = packageDir(pkg, resolveFrom);
  const dir = resolve(root, path);
  if (!dir.startsWith(root)) {
    throw new GraftError('BAD_INPUT', `path '${path}' leaves package '${pkg}'`, { package: pkg, path });
  }
  return loadTfjsModelDir(dir.endsWith('.json') ? dirname(dir) : dir);
}
