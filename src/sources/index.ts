/** Model sources: `npm:`, `file:` and `hub:` (Hugging Face–compatible, cached, resumable, offline-capable). */
export { parseSource } from './parse.js';
export { hubDownload, hubSnapshot, hubSnapshotInfo, type HubSnapshot } from './hub.js';
export { hubListFiles } from './api.js';
export { resolveSource } from './resolve.js';
export { defaultCacheDir } from './config.js';
export type { HubOptions, ParsedSource, ProgressEvent, ResolveOptions, ResolvedSource } from './types.js';
