/** Runs the `graft` command line from the TypeScript sources in a child process (workers, coordinators). */
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv);
