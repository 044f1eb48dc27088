/** Parses `npm:`, `file:` and `hub:` source strings; anything else is rejected with a helpful message. */
import { fileURLToPath } from 'node:url';
import { GraftError } from '../errors.js';
import type { ParsedSource } from './types.js';

const FORMS = [
  '  npm:<package>/<path>          e.g. npm:nsfwjs/dist/models/mobilenet_v2/model.json',
  '  file:<dir-or-file>            e.g. file:./models/my-model',
  '  hub:<org>/<name>[@<revision>] e.g. hub:google/mobilenet_v2_1.0_224@main',
].join('\n');

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const NPM_NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

function ambiguous(raw: string, problem: string, suggestion?: string): GraftError {
  const hint = suggestion ? ` — did you mean ${suggestion}?` : '';
  return new GraftError(
    'SOURCE_AMBIGUOUS',
    `${problem}${hint}\nA model source must be one of:\n${FORMS}`,
    suggestion ? { source: raw, suggestion } : { source: raw },
  );
}

/** A string that is not a valid source: guess what was meant, for the error message. */
function suggest(raw: string): string | undefined {
  const s = raw.trim();
  const hf = /^(?:https?:\/\/)?(?:www\.)?(?:huggingface\.co|hf\.co)\/([^/\s]+\/[^/\s@]+)/.exec(s);
  if (hf) return `hub:${hf[1]}`;
  const scheme = /^(hf|huggingface|hugging-face|hugginface):(.*)$/i.exec(s);
  if (scheme) return `hub:${scheme[2]!.replace(/^\/+/, '')}`;
  if (/^(?:\.{1,2}[\\/]|[\\/]|~|[A-Za-z]:[\\/])/.test(s)) return `file:${s}`;
  const parts = s.split('/');
  if (parts.length === 2 && parts.every((p) => SEGMENT.test(p.split('@')[0] ?? ''))) {
    return `hub:${s} or file:./${s}`;
  }
  if (parts.length === 1 && NPM_NAME.test(s)) return `npm:${s}/<path> or file:./${s}`;
  if (s.startsWith('@') || (parts.length > 2 && NPM_NAME.test(parts[0]!))) return `npm:${s} or file:./${s}`;
  if (/\.[A-Za-z0-9]+$/.test(s)) return `file:./${s}`;
  return undefined;
}

function parseHub(raw: string, body: string): ParsedSource {
  const at = body.indexOf('@');
  const repo = at < 0 ? body : body.slice(0, at);
  const revision = at < 0 ? 'main' : body.slice(at + 1);
  const parts = repo.split('/');
  if (parts.length !== 2 || !parts.every((p) => SEGMENT.test(p) && !p.includes('..'))) {
    throw ambiguous(raw, `'${raw}' is not a valid hub source: expected hub:<org>/<name>[@<revision>]`);
  }
  if (revision === '' || /\s/.test(revision) || revision.split('/').some((p) => p === '..' || p === '')) {
    throw ambiguous(raw, `'${raw}' has an invalid revision '${revision}'`, `hub:${repo}@main`);
  }
  return { kind: 'hub', raw, repo, org: parts[0]!, name: parts[1]!, revision };
}

function parseNpm(raw: string, body: string): ParsedSource {
  const parts = body.split('/');
  const nameLen = body.startsWith('@') ? 2 : 1;
  const pkg = parts.slice(0, nameLen).join('/');
  const path = parts.slice(nameLen).join('/');
  if (!NPM_NAME.test(pkg) || parts.slice(nameLen).some((p) => p === '..')) {
    throw ambiguous(raw, `'${raw}' is not a valid npm source: expected npm:<package>/<path>`);
  }
  return { kind: 'npm', raw, package: pkg, path };
}

function parseFile(raw: string, body: string): ParsedSource {
  const path = body.startsWith('//') ? fileURLToPath(`file:${body}`) : body;
  if (path.trim() === '') throw ambiguous(raw, `'${raw}' names no path`, 'file:./path/to/model');
  return { kind: 'file', raw, path };
}

/**
 * Parses a model source string. Accepted: `npm:<package>/<path>`, `file:<dir-or-file>` (also a file:// URL),
 * `hub:<org>/<name>[@<revision>]` (revision defaults to `main`). Throws SOURCE_AMBIGUOUS otherwise.
 */
export function parseSource(source: string): ParsedSource {
  const raw = source;
  const m = /^(npm|file|hub):(.*)$/s.exec(source.trim());
  if (!m) {
    const problem = source.trim() === '' ? 'empty model source' : `ambiguous model source '${source}'`;
    throw ambiguous(raw, problem, source.trim() === '' ? undefined : suggest(source));
  }
  const body = m[2]!;
  if (m[1] === 'hub') return parseHub(raw, body);
  if (m[1] === 'npm') return parseNpm(raw, body);
  return parseFile(raw, body);
}
