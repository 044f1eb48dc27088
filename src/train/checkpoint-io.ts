/**
 * The training-state file of a checkpoint directory (checkpoints.ts): 'GRAFTCK1', u32 header length, JSON header,
 * float32 payload (little-endian: parameters, buffers and optimizer slots), with the payload's sha256 in the
 * header. Bytes that fail any check decode as undefined.
 */
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { check } from '../errors.js';
import type { TrainingState } from './events.js';

const MAGIC = 'GRAFTCK1';

interface Entry {
  kind: 'param' | 'slot';
  name: string;
  slot?: string;
  offset: number;
  length: number;
}

interface Header {
  meta: Omit<TrainingState, 'params' | 'optimizer'> & {
    optimizer: Omit<TrainingState['optimizer'], 'slots'>;
  };
  entries: Entry[];
  payloadBytes: number;
  sha256: string;
}

export function encodeCheckpoint(state: TrainingState): Buffer {
  check(endianness() === 'LE', 'IO_ERROR', 'checkpoints need a little-endian machine');
  const arrays: Float32Array[] = [];
  const entries: Entry[] = [];
  let offset = 0;
  const push = (e: Omit<Entry, 'offset' | 'length'>, a: Float32Array) => {
    entries.push({ ...e, offset, length: a.length });
    arrays.push(a);
    offset += a.length * 4;
  };
  for (const [name, v] of state.params) push({ kind: 'param', name }, v);
  for (const [name, slots] of Object.entries(state.optimizer.slots)) {
    for (const [slot, v] of Object.entries(slots)) push({ kind: 'slot', name, slot }, Float32Array.from(v));
  }
  const payload = Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
  const { params: _p, optimizer, ...rest } = state;
  const { slots: _s, ...optimizerMeta } = optimizer;
  const header: Header = {
    meta: { ...rest, optimizer: optimizerMeta },
    entries,
    payloadBytes: payload.length,
    sha256: createHash('sha256').update(payload).digest('hex'),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  return Buffer.concat([Buffer.from(MAGIC, 'ascii'), len, json, payload]);
}

/** Decodes a checkpoint; undefined when the bytes are truncated, corrupt or not a checkpoint. */
export function decodeCheckpoint(buf: Buffer): TrainingState | undefined {
  try {
    if (buf.length < 12 || buf.toString('ascii', 0, 8) !== MAGIC) return undefined;
    const hlen = buf.readUInt32LE(8);
    if (12 + hlen > buf.length) return undefined;
    const header = JSON.parse(buf.toString('utf8', 12, 12 + hlen)) as Header;
    const payload = buf.subarray(12 + hlen);
    if (payload.length !== header.payloadBytes) return undefined;
    if (createHash('sha256').update(payload).digest('hex') !== header.sha256) return undefined;
    const aligned = new Uint8Array(payload).buffer; // copy: Float32Array needs 4-byte alignment
    const params = new Map<string, Float32Array>();
    const slots: TrainingState['optimizer']['slots'] = {};
    for (const e of header.entries) {
      const a = new Float32Array(aligned, e.offset, e.length).slice();
      if (e.kind === 'param') params.set(e.name, a);
      else (slots[e.name] ??= {})[e.slot!] = Array.from(a);
    }
    const { optimizer, ...rest } = header.meta;
    return { ...rest, params, optimizer: { ...optimizer, slots } };
  } catch {
    return undefined;
  }
}
