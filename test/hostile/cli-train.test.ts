/**
 * `graft train` (the built CLI) on hostile data and option values: skipped inputs as ONE summary line on stderr
 * even under --quiet (images and text alike), partial images only with --allow-truncated, too little data trains
 * and says so, a diverging loss and an impossible k are refused with their exit codes, Ctrl-C exits 130 with one
 * line, and an unreachable hub names the offline ways. Raw pixels (`--model pixels`) and tf-idf keep it fast.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { badCrcPng, lyingPng, plainPng, truncated } from './inputs.js';

const BIN = fileURLToPath(new URL('../../bin/graft.js', import.meta.url));
let root: string;
let images: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'graft-hostile-train-'));
  images = join(root, 'images');
  for (const c of ['a', 'b']) {
    await mkdir(join(images, c), { recursive: true });
    for (let i = 0; i < 3; i++)
      await writeFile(join(images, c, `${i}.png`), plainPng(10 + i + (c === 'a' ? 0 : 6), 9 + i));
  }
  await writeFile(join(images, 'a', 'zero.png'), new Uint8Array(0));
  await writeFile(join(images, 'a', 'huge.png'), lyingPng(15_000, 15_000));
  await writeFile(join(images, 'b', 'cut.png'), truncated(plainPng(40, 40)));
  await writeFile(join(images, 'b', 'crc.png'), badCrcPng(plainPng(30, 30)));
});
after(() => rm(root, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function graft(args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (s: string): string[] => s.split('\n').filter((l) => l.trim() !== '');
const pixels = (out: string, ...more: string[]): string[] => [
  'train',
  images,
  '--model',
  'pixels',
  '--no-cache',
  '--quiet',
  '--out',
  join(root, out),
  ...more,
];

const BAD_FILES = ['a/zero.png', 'a/huge.png', 'b/cut.png', 'b/crc.png'];

/** The command succeeded and its stderr is the one skip line, naming every bad file of the fixture. */
function expectSkipLine(what: string, r: Run): void {
  assert.equal(r.status, 0, `${what}: ${r.stderr}`);
  const [line, ...rest] = lines(r.stderr);
  assert.deepEqual(rest, [], `${what}, one line: ${r.stderr}`);
  assert.match(line!, new RegExp(`${BAD_FILES.length} inputs skipped`), what);
  for (const name of BAD_FILES) assert.ok(line!.includes(name), `${what}: ${name}`);
}

test('--quiet: every skipped image in one stderr line; 3 per class trains and says nothing is held out', () => {
  const r = graft(pixels('m-quiet'));
  expectSkipLine('train', r);
  assert.match(r.stdout, /No held-out examples: too little data for an honest held-out figure/);
  assert.ok(existsSync(join(root, 'm-quiet', 'model.onnx')));
});

test('graft eval skips the same images (at load or at decode) and says so in one --quiet line', () => {
  const model = join(root, 'm-eval');
  assert.equal(graft(pixels('m-eval')).status, 0);
  const r = graft(['eval', model, images, '--quiet', '--json']);
  expectSkipLine('eval', r);
  assert.equal((JSON.parse(r.stdout) as { n: number }).n, 6);
  const strict = graft(['eval', model, images, '--on-bad-input', 'fail']);
  assert.equal(strict.status, 3, strict.stderr);
  assert.match(strict.stderr, /BAD_INPUT/);
});

test('graft rank and graft extract name the skipped images in one --quiet line', () => {
  // rank decodes only the training split's images: with nothing held out it meets every file
  const noneHeldOut = ['--test-split', '0', '--val-split', '0'];
  expectSkipLine(
    'rank',
    graft(['rank', images, '--models', 'pixels', '--no-cache', '--quiet', ...noneHeldOut]),
  );
  const cache = join(root, 'extract-cache');
  expectSkipLine(
    'extract',
    graft(['extract', images, '--features', 'final', '--cache-dir', cache, '--quiet']),
  );
  const baseline = graft(['extract', images, '--model', 'pixels', '--cache-dir', cache]);
  assert.equal(baseline.status, 2, baseline.stderr);
  assert.match(baseline.stderr, /BAD_OPTION.*graft train --model pixels/);
});

test('--allow-truncated uses the partly decodable images; --max-pixels sets the budget checked at load', () => {
  const partial = graft(pixels('m-partial', '--allow-truncated'));
  assert.equal(partial.status, 0, partial.stderr);
  const [line, ...rest] = lines(partial.stderr);
  assert.deepEqual(rest, [], partial.stderr);
  assert.match(line!, /2 inputs skipped/);
  assert.ok(!line!.includes('cut.png') && !line!.includes('crc.png'), line);
  assert.ok(line!.includes('a/huge.png') && line!.includes('a/zero.png'), line);
  // a's images are 90–132 pixels, b's 144–198: a budget of 175 leaves out b/2.png by name
  const small = graft(pixels('m-budget', '--max-pixels', '175'));
  assert.equal(small.status, 0, small.stderr);
  assert.match(small.stderr, /5 inputs skipped/);
  assert.match(
    small.stderr,
    /b\/2\.png \(18×11 pixels \(198 pixels\) is over the pixel budget of 175 pixels/,
  );
  assert.ok(!/a\/[0-2]\.png/.test(small.stderr), small.stderr);
});

test('a diverging loss stops training with BAD_OPTION suggesting a lower rate, and saves nothing', () => {
  const out = join(root, 'm-diverged');
  const r = graft(
    pixels('m-diverged', '--head', 'mlp', '--optimizer', 'sgd', '--lr', '1e6', '--epochs', '30'),
  );
  assert.equal(r.status, 2, r.stderr);
  assert.match(
    r.stderr,
    /\[BAD_OPTION\] training diverged: the loss became (NaN|-?Infinity).*lower the learning rate/,
  );
  assert.equal(existsSync(out), false);
});

test('--k larger than the training split is refused, for k-NN fixed or searched', () => {
  for (const head of ['knn', 'auto']) {
    const r = graft(pixels(`m-k-${head}`, '--head', head, '--k', '1000'));
    assert.equal(r.status, 2, `${head}: ${r.stderr}`);
    assert.match(r.stderr, /\[BAD_OPTION\] --k 1000 is more neighbours than the 6 training examples/);
  }
});

test('text manifests: non-UTF-8 rows and blank labels in the one --quiet line; too small to hold out still trains', async () => {
  const file = join(root, 'texts.csv');
  await writeFile(
    file,
    Buffer.concat([
      Buffer.from(
        'text,label\ngood cheap fast,pos\ngood fast cheap,pos\nbad slow broken,neg\nslow bad broken,neg\n',
      ),
      Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x6f, 0x6b, 0x2c, 0x70, 0x6f, 0x73, 0x0a]),
      Buffer.from('no label here,  \n'),
    ]),
  );
  const r = graft([
    'train',
    file,
    '--model',
    'tfidf',
    '--quiet',
    '--val-split',
    '0',
    '--out',
    join(root, 'm-text'),
  ]);
  assert.equal(r.status, 0, r.stderr);
  const [line, ...rest] = lines(r.stderr);
  assert.deepEqual(rest, [], r.stderr);
  assert.match(line!, /2 inputs skipped \(2 BAD_ROW: texts\.csv:6 .*UTF-8.*texts\.csv:7 .*whitespace/);
  assert.match(r.stdout, /No held-out examples/);
});

test('an unreachable hub is NETWORK_ERROR (exit 9) naming the offline ways', async () => {
  const file = join(root, 'texts-ok.csv');
  await writeFile(file, 'text,label\nyes yes,pos\nyes sure,pos\nno no,neg\nno way,neg\n');
  // A named encoder (the default search would list it as skipped and train tf-idf instead).
  const r = graft(['train', file, '--strategy', 'linear-probe', '--quiet', '--out', join(root, 'm-hub')], {
    HF_ENDPOINT: 'http://127.0.0.1:9',
    HF_HOME: join(root, 'hf-home'),
    HF_HUB_OFFLINE: '',
  });
  assert.equal(r.status, 9, r.stderr);
  assert.equal(lines(r.stderr).length, 1, r.stderr);
  assert.match(r.stderr, /\[NETWORK_ERROR\] cannot reach the model hub/);
  for (const way of ['HF_HUB_OFFLINE=1', '--model file:', '--model tfidf'])
    assert.ok(r.stderr.includes(way), way);
});

test('Ctrl-C during extraction exits 130 with one line', async () => {
  const many = join(root, 'many');
  for (const c of ['a', 'b']) {
    await mkdir(join(many, c), { recursive: true });
    for (let i = 0; i < 150; i++)
      await writeFile(join(many, c, `${i}.png`), plainPng(40 + (i % 9), 30 + (c === 'a' ? 0 : 5)));
  }
  const child = spawn(process.execPath, [BIN, 'train', many, '--no-cache', '--out', join(root, 'm-int')]);
  let stderr = '';
  let signalled = false;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (!signalled && stderr.includes('"type":"extract"')) {
      signalled = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.ok(signalled, `extraction started: ${stderr.slice(-500)}`);
  assert.equal(code, 130, stderr.slice(-500));
  const last = lines(stderr).filter((l) => !l.startsWith('{'));
  assert.equal(last.length, 1, last.join('\n'));
  assert.match(last[0]!, /\[CANCELLED\]/);
  assert.equal(existsSync(join(root, 'm-int', 'model.onnx')), false);
});
