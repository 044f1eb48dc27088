/** `graft serve <model-dir>`: an HTTP server for a trained model, until SIGTERM/SIGINT. */
import type { Command } from 'commander';
import { GraftError } from '../../errors.js';
import { createServer } from '../../serve/app.js';
import { parseSize, type ServeOptions } from '../../serve/options.js';
import { installShutdown } from '../../serve/shutdown.js';
import {
  ChildExit,
  hasNodeFlags,
  rerunWithNodeFlags,
  SERVE_V8_FLAGS,
  serveEnvironment,
  stopWithParent,
} from '../respawn.js';

interface ServeFlags {
  port: string;
  host: string;
  maxBatch: string;
  maxWaitMs: string;
  bodyLimit: string;
  timeoutMs: string;
  receiveTimeoutMs: string;
  maxPixels: string;
  threads?: string;
  int8?: boolean;
  log?: boolean;
}

function num(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new GraftError('BAD_OPTION', `--${name} must be a number, got '${value}'`, { option: name });
  }
  return n;
}

export function serveOptionsFromFlags(flags: ServeFlags): ServeOptions {
  return {
    port: num('port', flags.port),
    host: flags.host,
    maxBatch: num('max-batch', flags.maxBatch),
    maxWaitMs: num('max-wait-ms', flags.maxWaitMs),
    bodyLimit: parseSize(flags.bodyLimit),
    timeoutMs: num('timeout-ms', flags.timeoutMs),
    receiveTimeoutMs: num('receive-timeout-ms', flags.receiveTimeoutMs),
    maxPixels: num('max-pixels', flags.maxPixels),
    ...(flags.threads !== undefined ? { threads: num('threads', flags.threads) } : {}),
    int8: flags.int8 ?? false,
    log: flags.log ?? false,
  };
}

/**
 * Serves `modelDir` until SIGTERM or SIGINT, then stops accepting, finishes in-flight requests and resolves
 * with the exit code (0 after a clean shutdown).
 */
export async function runServe(modelDir: string, options: ServeOptions): Promise<number> {
  const server = await createServer(modelDir, options);
  const { maxBatch, maxWaitMs, timeoutMs } = server.options;
  process.stderr.write(
    `graft: serving ${server.model.id} (${server.model.manifest.labels.length} labels) at ${server.url} ` +
      `[max batch ${maxBatch}, max wait ${maxWaitMs} ms]\n`,
  );
  // a line on stdout that scripts (and tests) can wait for
  process.stdout.write(`listening ${server.url}\n`);
  return installShutdown(server, {
    forceAfterMs: timeoutMs + 10_000,
    onSignal: (s) => process.stderr.write(`graft: ${s}: finishing in-flight requests, then exiting\n`),
  });
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a trained model over HTTP (POST /predict, GET /health, /info, /metrics)')
    .argument('<model-dir>', 'directory with model.onnx and graft.json')
    .option('--port <n>', 'TCP port (0 = any free port)', '8080')
    .option('--host <addr>', 'interface to bind', '127.0.0.1')
    .option('--max-batch <n>', 'most images per batched forward pass', '32')
    .option('--max-wait-ms <ms>', 'how long a request waits for others to join its batch', '5')
    .option('--body-limit <size>', 'largest request body (e.g. 10mb)', '10mb')
    .option('--timeout-ms <ms>', 'per-request time limit', '30000')
    .option(
      '--receive-timeout-ms <ms>',
      'longest wait for headers, or between two pieces of a body, before a 408',
      '5000',
    )
    .option(
      '--max-pixels <n>',
      'largest image accepted (width × height, checked before decoding)',
      '40000000',
    )
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: CPU cores)')
    .option('--int8', 'serve model.int8.onnx (made by `graft quantize`)')
    .option('--log', 'log every request to stderr')
    .action(async (dir: string, flags: ServeFlags) => {
      const options = serveOptionsFromFlags(flags);
      // The server runs in a child node with SERVE_V8_FLAGS and serveEnvironment() (POSIX; on Windows a console's
      // Ctrl-C would reach both processes, so it runs here without them). The child prints its own errors.
      if (process.platform !== 'win32' && !hasNodeFlags(SERVE_V8_FLAGS)) {
        const code = await rerunWithNodeFlags(SERVE_V8_FLAGS, serveEnvironment());
        if (code !== 0) throw new ChildExit(code);
        return;
      }
      stopWithParent();
      const code = await runServe(dir, options);
      if (code !== 0) throw new GraftError('CANCELLED', 'shutdown did not complete cleanly');
    });
}
