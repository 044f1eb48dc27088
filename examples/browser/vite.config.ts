/**
 * Builds the example: `npx vite build examples/browser` → examples/browser/dist/.
 * Dev/preview: `GRAFT_MODEL_DIR=path/to/model npx vite examples/browser` serves that directory at /model/.
 */
import { createReadStream, statSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Connect, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/** Serves GRAFT_MODEL_DIR's files under /model/ in `vite` (dev) and `vite preview`. */
function serveModelDir(): Plugin {
  const middleware: Connect.NextHandleFunction = (req, res, next) => {
    const dir = process.env['GRAFT_MODEL_DIR'];
    const url = new URL(req.url ?? '/', 'http://x');
    if (!dir || !url.pathname.startsWith('/model/')) return next();
    const base = normalize(dir);
    const file = normalize(join(base, decodeURIComponent(url.pathname.slice('/model/'.length))));
    if (!file.startsWith(base + sep) || !statSync(file, { throwIfNoEntry: false })?.isFile()) return next();
    res.setHeader('Content-Type', file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
    createReadStream(file).pipe(res);
  };
  return {
    name: 'graft-model-dir',
    configureServer: (server) => void server.middlewares.use(middleware),
    configurePreviewServer: (server) => void server.middlewares.use(middleware),
  };
}

export default defineConfig({
  root,
  base: './',
  plugins: [serveModelDir()],
  // onnxruntime-web locates its wasm through import.meta.url; pre-bundling would break that in dev.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: { outDir: join(root, 'dist'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2048 },
});
