/** Typed readers for TensorFlow node attributes in TF.js JSON form. */
import type { TfAttr, TfNode } from './types.js';

const decode = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');

function get(node: TfNode, key: string): TfAttr | undefined {
  return node.attr?.[key];
}

export function attrString(node: TfNode, key: string, fallback: string): string {
  const s = get(node, key)?.s;
  return s === undefined ? fallback : decode(s);
}

export function attrStrings(node: TfNode, key: string): string[] {
  return (get(node, key)?.list?.s ?? []).map(decode);
}

export function attrInts(node: TfNode, key: string, fallback: readonly number[] = []): number[] {
  const list = get(node, key)?.list;
  if (!list) return [...fallback];
  return (list.i ?? []).map(Number);
}

export function attrInt(node: TfNode, key: string, fallback: number): number {
  const v = get(node, key)?.i;
  return v === undefined ? fallback : Number(v);
}

export function attrFloat(node: TfNode, key: string, fallback: number): number {
  const v = get(node, key)?.f;
  return v === undefined ? fallback : Number(v);
}

export function attrBool(node: TfNode, key: string, fallback: boolean): boolean {
  const v = get(node, key)?.b;
  return v === undefined ? fallback : v;
}

/** A Placeholder's shape: -1 → null; undefined when the rank is unknown. */
export function attrShape(node: TfNode, key = 'shape'): (number | null)[] | undefined {
  const s = get(node, key)?.shape;
  if (!s || s.unknownRank) return undefined;
  return (s.dim ?? []).map((d) => {
    const n = Number(d.size ?? -1);
    return n < 0 ? null : n;
  });
}
