/** Public types of model sources: parsed source strings, hub options, progress events, resolved sources. */

/** A source string after parsing (see `parseSource`). */
export type ParsedSource =
  | { readonly kind: 'npm'; readonly raw: string; readonly package: string; readonly path: string }
  | { readonly kind: 'file'; readonly raw: string; readonly path: string }
  | {
      readonly kind: 'hub';
      readonly raw: string;
      readonly repo: string;
      readonly org: string;
      readonly name: string;
      readonly revision: string;
    };

/** Reported while a file downloads: `bytes` so far (including resumed bytes), `total` when known. */
export interface ProgressEvent {
  readonly file: string;
  readonly bytes: number;
  readonly total: number | undefined;
}

export interface HubOptions {
  /** Branch, tag or commit sha. Default `main`. */
  revision?: string;
  /** Hub base URL. Default: `HF_ENDPOINT`, else https://huggingface.co. */
  endpoint?: string;
  /** Access token sent as `Authorization: Bearer`. Default: `HF_TOKEN` (or `HUGGING_FACE_HUB_TOKEN`). */
  token?: string;
  /** Cache root. Default: `HF_HUB_CACHE`, else `HF_HOME/hub`, else `~/.cache/huggingface/hub`. */
  cacheDir?: string;
  /** Use only the cache, never the network. Default: `HF_HUB_OFFLINE=1`. */
  offline?: boolean;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
  /** Environment used for the defaults above. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** A lock older than this (ms, by mtime) is considered stale even if its owner looks alive. Default 60000. */
  staleLockMs?: number;
  /** How long to wait for another process's lock before giving up (ms). Default 600000. */
  lockTimeoutMs?: number;
}

export interface ResolveOptions extends HubOptions {
  /** Files to fetch for `hub:` sources. Default: every file the hub lists for the revision. */
  files?: readonly string[];
  /** Where `npm:` packages are resolved from (a file path or file: URL). Default: this module. */
  resolveFrom?: string;
}

export type ResolvedSource =
  | { readonly kind: 'npm'; readonly source: ParsedSource & { kind: 'npm' }; readonly file: string }
  | {
      readonly kind: 'file';
      readonly source: ParsedSource & { kind: 'file' };
      /** The directory: the path itself, or the directory containing the named file. */
      readonly dir: string;
      /** Set when the source names a single file. */
      readonly file: string | undefined;
    }
  | {
      readonly kind: 'hub';
      readonly source: ParsedSource & { kind: 'hub' };
      /** `<cache>/models--org--name/snapshots/<commit>` */
      readonly dir: string;
      readonly commit: string;
      readonly files: readonly string[];
    };
