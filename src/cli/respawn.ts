/**
 * Running a command again in a child node process started with V8 options that node takes only on its own
 * command line (not from NODE_OPTIONS, and not once the heap exists). `graft serve` needs one: see
 * SERVE_V8_FLAGS. A shebang could carry it (`env -S`), but BusyBox's env (Alpine images) has no -S.
 */
import { spawn } from 'node:child_process';
import { availableParallelism, constants } from 'node:os';

/**
 * A server allocates a few hundred KB of buffers per request (socket reads, bodies); with V8's small default
 * initial heap that external memory set off a full garbage collection every few dozen requests, on the cores
 * the model needs. With 256 MB the young-generation collector reclaims them.
 */
export const SERVE_V8_FLAGS: readonly string[] = ['--initial-old-space-size=256'];

/**
 * The server's environment: libuv's thread pool (which decodes request images) sized to a quarter of the cores,
 * 1 to 4, unless UV_THREADPOOL_SIZE is set. Its threads run beside ONNX Runtime's, one per core, and a pool
 * thread that preempts one of those stalls the other at the end of each parallel section: on 2 cores, served
 * images/s rose by ~5% with 1 pool thread instead of libuv's 4, while decoding still keeps up (~0.5 ms an image).
 */
export function serveEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (env['UV_THREADPOOL_SIZE']) return env;
  const threads = Math.min(4, Math.max(1, Math.round(availableParallelism() / 4)));
  return { ...env, UV_THREADPOOL_SIZE: String(threads) };
}

/** Thrown by a command whose work ran in a child process: exit with its code (it printed its own errors). */
export class ChildExit extends Error {
  constructor(readonly code: number) {
    super(`child process exited with code ${code}`);
  }
}

/** Whether this process was started with `flags`. */
export function hasNodeFlags(flags: readonly string[]): boolean {
  return flags.every((f) => process.execArgv.includes(f));
}

const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Runs this process's command line again in a child node started with `flags` (and `env`) and resolves with its
 * exit code.
 * The child has its own process group, so a terminal's Ctrl-C reaches it once, forwarded from here (a second
 * one means "stop now" to graft serve), and an IPC channel, through which it notices if this process dies.
 */
export function rerunWithNodeFlags(
  flags: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const child = spawn(process.execPath, [...flags, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    detached: true,
    env,
  });
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  for (const s of FORWARDED) process.on(s, forward);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      for (const s of FORWARDED) process.off(s, forward);
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}

/** In a child of rerunWithNodeFlags: a SIGTERM to itself (graceful shutdown) when the parent goes away. */
export function stopWithParent(): void {
  if (!process.channel) return;
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
