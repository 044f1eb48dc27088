/** Graceful shutdown on SIGTERM/SIGINT: stop accepting, finish in-flight requests, then resolve. */

export interface Closable {
  close(): Promise<void>;
}

export interface ShutdownOptions {
  signals?: readonly NodeJS.Signals[];
  /** Called when a signal arrives (e.g. to print a line). */
  onSignal?: (signal: NodeJS.Signals) => void;
  /** If closing takes longer than this, give up waiting and resolve with exit code 1 (default 60000). */
  forceAfterMs?: number;
}

/**
 * Resolves with the process exit code once `server` has closed after the first signal: 0 after a clean close,
 * 1 if closing failed or took longer than `forceAfterMs`, or at once on a second signal.
 */
export function installShutdown(server: Closable, options: ShutdownOptions = {}): Promise<number> {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  return new Promise<number>((resolve) => {
    let started = false;
    const finish = (code: number): void => {
      for (const s of signals) process.off(s, onSignal);
      resolve(code);
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      if (started) return finish(1);
      started = true;
      options.onSignal?.(signal);
      const timer = setTimeout(() => finish(1), options.forceAfterMs ?? 60_000);
      timer.unref();
      server.close().then(
        () => {
          clearTimeout(timer);
          finish(0);
        },
        () => {
          clearTimeout(timer);
          finish(1);
        },
      );
    };
    for (const s of signals) process.on(s, onSignal);
  });
}
