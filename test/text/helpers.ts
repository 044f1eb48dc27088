/** Shared helpers for the text tests: the tiny BERT fixture, its torch reference, temp dirs, a hub fixture. */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FixtureRepo } from '../sources/server.js';

export const BERT_DIR = fileURLToPath(new URL('../fixtures/bert/tiny-bert', import.meta.url));
export const BERT_SOURCE = `file:${BERT_DIR}`;

export interface RefSentence {
  text: string;
  tokens: string[];
  ids: number[];
  hidden_head: number[][];
  token_sums: number[];
  mean: number;
}

export interface Reference {
  hidden_size: number;
  head_dims: number;
  vocab_size: number;
  sentences: RefSentence[];
  pair: { a: string; b: string; ids: number[]; token_type_ids: number[] };
}

export const reference: Reference = JSON.parse(
  readFileSync(fileURLToPath(new URL('../fixtures/bert/reference.json', import.meta.url)), 'utf8'),
) as Reference;

export async function tempDir(
  prefix = 'graft-text-',
): Promise<{ dir: string; [Symbol.asyncDispose](): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) };
}

/** The tiny BERT directory as a hub repo for test/sources/server.ts (the ONNX file stored with LFS). */
export function bertHubRepo(repo = 'graft-test/tiny-bert'): FixtureRepo {
  const files = new Map<string, Buffer>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else files.set(relative(BERT_DIR, p).split('\\').join('/'), readFileSync(p));
    }
  };
  walk(BERT_DIR);
  return { repo, commit: randomBytes(20).toString('hex'), files, lfs: new Set(['onnx/model.onnx']) };
}

export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
