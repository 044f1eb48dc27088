/**
 * Ctrl-C (SIGINT) and SIGTERM for the commands that work and then exit (train, eval, rank, predict, extract,
 * quantize, demo): the first signal aborts the command's AbortSignal, so the running stage stops at its next
 * check (between batches, epochs, L-BFGS iterations), its sessions are released by the finally blocks on the way
 * out, and the CLI exits 130 with one `[CANCELLED]` line. Should the stage not stop within a few seconds, or a
 * second signal come, the process exits 130 at once with the same line. `graft serve` and `graft worker` install
 * their own handlers (finish what is in flight).
 */
import { GraftError } from '../errors.js';
import { red } from './output.js';

/** How long a stage may take to reach its next cancellation check before the process exits anyway. */
const GRACE_MS = 5000;

let controller: AbortController | undefined;

/** The signal of the running command (never aborted when no handler is installed). */
export function commandSignal(): AbortSignal {
  return (controller ??= new AbortController()).signal;
}

/** Throws CANCELLED when the command was cancelled: for checks between the stages of a command. */
export function throwIfCancelled(): void {
  if (controller?.signal.aborted) throw cancelled(controller.signal.reason);
}

function cancelled(reason: unknown): GraftError {
  return reason instanceof GraftError ? reason : new GraftError('CANCELLED', 'cancelled');
}

/** Installs the handlers; returns a function that removes them. */
export function installCancel(): () => void {
  const c = (controller ??= new AbortController());
  const onSignal = (signal: NodeJS.Signals): void => {
    const error = new GraftError('CANCELLED', `cancelled by ${signal === 'SIGINT' ? 'Ctrl-C' : signal}`);
    if (c.signal.aborted) exitNow(error);
    c.abort(error);
    setTimeout(() => exitNow(error), GRACE_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

function exitNow(error: GraftError): never {
  process.stderr.write(`${red('graft: error')} [${error.code}] ${error.message}\n`);
  process.exit(error.exitCode);
}
