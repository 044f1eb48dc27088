/**
 * Child process for the shutdown test: what `graft serve <dir> --port 0 --max-wait-ms <ms>` runs (the
 * command's runServe), with the exit code set the way bin/graft.js sets it.
 */
import { runServe } from '../../src/cli/commands/serve.js';

const [dir, waitMs] = process.argv.slice(2);
process.exitCode = await runServe(dir!, { port: 0, maxWaitMs: Number(waitMs ?? 5), threads: 1 });
