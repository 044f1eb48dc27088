/** `graft worker --queue redis://…`: serve extraction and prediction shards until SIGTERM / SIGINT. */
import type { Command } from 'commander';
import { startWorker, type WorkerEvent } from '../../scale/worker.js';
import { number } from '../parse.js';

interface WorkerFlags {
  queue: string;
  concurrency?: string;
  threads?: string;
  cacheDir?: string;
  lockDuration?: string;
  quiet?: boolean;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'process shards of `graft extract --queue` and `graft predict --queue` runs, on any number of machines',
    )
    .requiredOption('--queue <url>', 'redis://host:port of the queue')
    .option('--concurrency <n>', 'shards at once, each on its own thread with its own model (default 1)')
    .option('--threads <n>', 'ONNX Runtime intra-op threads per shard (default: one per core)')
    .option(
      '--cache-dir <dir>',
      "where this machine mounts the shared cache, if not at the coordinator's path",
    )
    .option('--lock-duration <ms>', 'a dead worker’s shard is re-run once its lock lapses (default 30000)')
    .option('--quiet', 'no log lines')
    .action(async (f: WorkerFlags) => {
      const log = (e: WorkerEvent) => {
        if (!f.quiet) process.stderr.write(`${JSON.stringify({ ...e, time: new Date().toISOString() })}\n`);
      };
      const worker = await startWorker({
        queue: f.queue,
        concurrency: number('concurrency', f.concurrency, { integer: true, min: 1 }),
        threads: number('threads', f.threads, { integer: true, min: 1 }),
        cacheDir: f.cacheDir,
        lockDuration: number('lock-duration', f.lockDuration, { integer: true, min: 1000 }),
        onEvent: log,
      });
      // The first signal lets the shard in hand finish; a second one (or Redis gone) stops at once, and
      // the unfinished shard is re-run elsewhere once its lock lapses.
      let stopping = false;
      const stop = () => {
        if (stopping) process.exit(143);
        stopping = true;
        void worker.close();
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      await worker.closed;
    });
}
