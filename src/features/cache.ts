/**
 * A content-addressed feature cache: one append-only file per (model, preprocessing, feature tensors) key,
 * holding records [magic | 32-byte example key | value count | crc32 | float32 values]. Records whose checksum
 * fails, and a half-written tail, are dropped on open (and re-extracted by the caller); appends are fsynced
 * so a killed run loses at most the batch in flight.
 *
 * Several machines writing one cache on a shared directory (`graft worker`) do not append: each writes whole
 * shard files `<key>.shards/<shard id>.features` (same records) with a temp file and a rename, so a file is
 * either absent or complete, and writing a shard twice leaves the same bytes. Opening the cache reads them too.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  readdirSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Model } from '../onnx/ir.js';
import { encodeModel } from '../onnx/io.js';

const MAGIC = 0x47524654; // 'GRFT'
const HEADER = 4 + 32 + 4 + 4;

/** The folder of a cache key's shard files, beside its append-only file. */
export const shardDir = (dir: string, key: string): string => join(dir, `${key}.shards`);
export const shardFile = (dir: string, key: string, shardId: string): string =>
  join(shardDir(dir, key), `${shardId}.features`);

/** Records [magic | 32-byte key | count | crc32 | float32 values], one buffer. */
export function encodeRecords(records: readonly (readonly [string, Float32Array])[]): Buffer {
  const size = records.reduce((n, [, v]) => n + HEADER + v.byteLength, 0);
  const buf = Buffer.alloc(size);
  let off = 0;
  for (const [k, v] of records) {
    const payload = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    buf.writeUInt32LE(MAGIC, off);
    Buffer.from(k, 'hex').copy(buf, off + 4);
    buf.writeUInt32LE(v.length, off + 36);
    buf.writeUInt32LE(crc32(payload), off + 40);
    buf.set(payload, off + HEADER);
    off += HEADER + v.byteLength;
  }
  return buf;
}

/**
 * Reads records from `buf` into `into`; returns the intact records' byte ranges and the bytes dropped (a
 * record whose checksum fails, and whatever follows a broken header).
 */
function decodeRecords(buf: Buffer, into: Map<string, Float32Array>): { good: Buffer[]; dropped: number } {
  const good: Buffer[] = [];
  let off = 0;
  let dropped = 0;
  while (off + HEADER <= buf.length && buf.readUInt32LE(off) === MAGIC) {
    const n = buf.readUInt32LE(off + 36);
    const end = off + HEADER + n * 4;
    if (end > buf.length) break;
    const payload = buf.subarray(off + HEADER, end);
    if (crc32(payload) === buf.readUInt32LE(off + 40)) {
      const values = new Float32Array(n);
      new Uint8Array(values.buffer).set(payload);
      into.set(buf.subarray(off + 4, off + 36).toString('hex'), values);
      good.push(buf.subarray(off, end));
    } else {
      dropped += end - off;
    }
    off = end;
  }
  return { good, dropped: dropped + buf.length - off };
}

/**
 * Writes one shard's records as `<key>.shards/<shardId>.features`: temp file, fsync, rename. Rewriting a shard
 * (a job delivered twice) replaces the file with the same records; readers see the old file or the new one.
 */
export function writeShard(
  dir: string,
  key: string,
  shardId: string,
  records: readonly (readonly [string, Float32Array])[],
): string {
  const target = shardFile(dir, key, shardId);
  mkdirSync(shardDir(dir, key), { recursive: true });
  const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, encodeRecords(records));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, target);
  return target;
}

/** Whether a shard file exists and every record in it is intact. */
export function shardComplete(dir: string, key: string, shardId: string): boolean {
  const file = shardFile(dir, key, shardId);
  if (!existsSync(file)) return false;
  return decodeRecords(readFileSync(file), new Map()).dropped === 0;
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

const modelHashes = new WeakMap<Model, string>();

/** sha256 of a model's serialised bytes, computed once per model object (cache keys and graft.json both need it). */
export function modelSha256(model: Model): string {
  let h = modelHashes.get(model);
  if (!h) modelHashes.set(model, (h = sha256(encodeModel(model))));
  return h;
}

export interface CacheOpenReport {
  /** Records loaded intact. */
  loaded: number;
  /** Bytes dropped because a record was corrupt or half-written. */
  droppedBytes: number;
}

export class FeatureCache {
  private readonly entries = new Map<string, Float32Array>();
  private fd: number | undefined;
  readonly file: string;
  /** The folder of shard files written by workers (see writeShard). */
  readonly shards: string;
  readonly report: CacheOpenReport;

  /** `key` identifies model + preprocessing + tensors; it names the cache file under `dir`. */
  constructor(dir: string, key: string) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `${key}.features`);
    this.shards = shardDir(dir, key);
    this.report = this.load();
  }

  get size(): number {
    return this.entries.size;
  }

  get(exampleKey: string): Float32Array | undefined {
    return this.entries.get(exampleKey);
  }

  has(exampleKey: string): boolean {
    return this.entries.has(exampleKey);
  }

  /** Appends many records with one write and one fsync. */
  putMany(records: readonly (readonly [string, Float32Array])[]): void {
    if (records.length === 0) return;
    const buf = encodeRecords(records);
    for (const [k, v] of records) this.entries.set(k, v);
    this.fd ??= openSync(this.file, 'a');
    writeSync(this.fd, buf);
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private load(): CacheOpenReport {
    let dropped = this.loadShards();
    if (existsSync(this.file)) {
      const { good, dropped: lost } = decodeRecords(readFileSync(this.file), this.entries);
      dropped += lost;
      if (lost > 0) {
        // Keep only intact records: rewrite atomically so a crash here cannot lose them.
        const tmp = `${this.file}.${process.pid}.tmp`;
        writeFileSync(tmp, Buffer.concat(good));
        renameSync(tmp, this.file);
      }
    }
    return { loaded: this.entries.size, droppedBytes: dropped };
  }

  /** Shard files are complete by construction (renamed into place); a damaged one is read as far as it is intact. */
  private loadShards(): number {
    const dir = this.shards;
    if (!existsSync(dir)) return 0;
    let dropped = 0;
    for (const name of readdirSync(dir).sort()) {
      if (!name.endsWith('.features')) continue;
      dropped += decodeRecords(readFileSync(join(dir, name)), this.entries).dropped;
    }
    return dropped;
  }
}
