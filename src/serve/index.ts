/** The model server: `createServer(modelDir, options)` and its parts. */
export { createServer, type GraftServer } from './app.js';
export { Batcher, type BatcherOptions } from './batcher.js';
export { ServerMetrics } from './metrics.js';
export { modelInfo, type ModelInfo, type ServedModel } from './model.js';
export { parseSize, resolveServeOptions, type ResolvedServeOptions, type ServeOptions } from './options.js';
export { rankRows, type PredictResponse } from './routes.js';
export { installShutdown } from './shutdown.js';
