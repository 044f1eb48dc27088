/** `resolveSource`: turns a source string into local files (downloading hub sources into the cache). */
import { createRequire } from 'node:module';
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { GraftError } from '../errors.js';
import { hubListFiles } from './api.js';
import { hubSnapshotInfo } from './hub.js';
import { parseSource } from './parse.js';
import type { ParsedSource, ResolveOptions, ResolvedSource } from './types.js';

type Npm = ParsedSource & { kind: 'npm' };

/** Finds the package's root directory even when its `exports` hide package.json and the requested subpath. */
function packageRoot(req: NodeRequire, pkg: string): string | undefined {
  for (const base of req.resolve.paths(pkg) ?? []) {
    try {
      return dirname(req.resolve(join(base, pkg, 'package.json')));
    } catch {
      // not installed under this node_modules
    }
  }
  return undefined;
}

function resolveNpm(source: Npm, options: ResolveOptions): string {
  const req = createRequire(options.resolveFrom ?? import.meta.url);
  const spec = source.path ? `${source.package}/${source.path}` : source.package;
  try {
    return req.resolve(spec);
  } catch (e) {
    const root = packageRoot(req, source.package);
    if (root && source.path) {
      try {
        return req.resolve(join(root, source.path)); // a plain file the package's `exports` does not list
      } catch {
        // fall through to the error below
      }
    }
    const what = root
      ? `file '${source.path}' not found in npm package '${source.package}'`
      : `npm package '${source.package}' is not installed (npm install ${source.package})`;
    throw new GraftError(
      'MODEL_NOT_FOUND',
      `${what} (source '${source.raw}')`,
      { source: source.raw },
      { cause: e },
    );
  }
}

/**
 * Resolves `npm:`, `file:` or `hub:` to local paths. `hub:` sources are downloaded into the cache (or found
 * there; offline mode uses only the cache): `options.files`, or every file the hub lists for the revision.
 */
export async function resolveSource(source: string, options: ResolveOptions = {}): Promise<ResolvedSource> {
  const parsed = parseSource(source);
  if (parsed.kind === 'npm') return { kind: 'npm', source: parsed, file: resolveNpm(parsed, options) };
  if (parsed.kind === 'file') {
    const path = resolve(parsed.path);
    const st = await stat(path).catch(() => undefined);
    if (!st)
      throw new GraftError('MODEL_NOT_FOUND', `no such file or directory: '${path}' (source '${source}')`, {
        source,
        path,
      });
    return st.isDirectory()
      ? { kind: 'file', source: parsed, dir: path, file: undefined }
      : { kind: 'file', source: parsed, dir: dirname(path), file: path };
  }
  const hubOptions = { ...options, revision: parsed.revision };
  const files = options.files ?? (await hubListFiles(parsed.repo, hubOptions));
  if (files.length === 0) {
    throw new GraftError(
      'MODEL_NOT_FOUND',
      `hub repo '${parsed.repo}' at '${parsed.revision}' has no files`,
      { source },
    );
  }
  const snap = await hubSnapshotInfo(parsed.repo, files, hubOptions);
  return { kind: 'hub', source: parsed, dir: snap.dir, commit: snap.commit, files: snap.files };
}
