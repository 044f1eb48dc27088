#!/usr/bin/env -S node --initial-old-space-size=256
// --initial-old-space-size: graft serve allocates a few hundred KB of buffers per request (socket reads,
// bodies); with V8's default small initial heap that external memory triggered a full garbage collection every
// few dozen requests, on the cores the model needs. 256 MB lets the young-generation collector reclaim them.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
