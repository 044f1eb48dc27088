#!/usr/bin/env node
// Builds graft's native addons with node-gyp: the image addon (native/image → build/Release/graft_image.node,
// against libjpeg-turbo, libpng and libdeflate; Debian: libjpeg62-turbo-dev, libpng-dev, libdeflate-dev) and the
// optimizer addon (native/optim → graft_optim.node) and the convolution addon (native/conv → graft_conv.node:
// depthwise convolution for training graphs, for small planes by default, GRAFT_NATIVE_DEPTHWISE) and the heap addon (native/heap →
// graft_heap.node: keeps freed memory mapped, src/runtime/heap.ts). All are optional: if the
// build fails, graft decodes every
// image with sharp and runs the optimizers' loops in TypeScript, so installing goes on with a warning. With
// GRAFT_REQUIRE_NATIVE=1 (set by scripts/setup.sh, so CI notices) a failed build fails the install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// npm names its bundled node-gyp for install scripts; otherwise look beside npm itself.
const candidates = [
  process.env.npm_config_node_gyp,
  join(
    dirname(process.execPath),
    '..',
    'lib',
    'node_modules',
    'npm',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js',
  ),
].filter((p) => p && existsSync(p));
const required = process.env.GRAFT_REQUIRE_NATIVE === '1';

function giveUp(why) {
  const message = `graft: native addons not built (${why}); images will be decoded with sharp and optimizer loops run in TypeScript`;
  if (required) {
    console.error(`${message}.\nGRAFT_REQUIRE_NATIVE=1 makes this an error.`);
    process.exit(1);
  }
  console.warn(`${message} (slower).`);
  process.exit(0);
}

if (candidates.length === 0) giveUp('node-gyp not found');
const result = spawnSync(process.execPath, [candidates[0], 'rebuild'], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) giveUp(`node-gyp exited with ${result.status ?? result.signal}`);
