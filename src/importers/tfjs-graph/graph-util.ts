/** GraphDef helpers: dependency order and small inline constants. */
import { GraftError } from '../../errors.js';
import { float32, type Tensor } from '../../tensor.js';
import type { TfNode } from './types.js';

/** Nodes in dependency order (GraphDefs need not be sorted). */
export function sortNodes(nodes: readonly TfNode[]): TfNode[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const state = new Map<string, 1 | 2>();
  const out: TfNode[] = [];
  const visit = (root: TfNode): void => {
    const stack: [TfNode, number][] = [[root, 0]];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [node, i] = top;
      if (i === 0) {
        if (state.get(node.name) === 2) {
          stack.pop();
          continue;
        }
        state.set(node.name, 1);
      }
      const inputs = node.input ?? [];
      if (i < inputs.length) {
        top[1] = i + 1;
        const dep = byName.get(inputs[i]!.replace(/^\^/, '').replace(/:\d+$/, ''));
        if (!dep || state.get(dep.name) === 2) continue;
        if (state.get(dep.name) === 1) {
          throw new GraftError('CORRUPT_MODEL', `graph has a cycle through '${dep.name}'`, {
            node: dep.name,
          });
        }
        stack.push([dep, 0]);
      } else {
        state.set(node.name, 2);
        out.push(node);
        stack.pop();
      }
    }
  };
  for (const n of nodes) visit(n);
  return out;
}

/** A constant stored inline in the node (`floatVal`/`intVal`), when it is not in the weight manifest. */
export function inlineConst(node: TfNode): Tensor | undefined {
  const t = node.attr?.['value']?.tensor;
  if (!t) return undefined;
  const shape = (t.tensorShape?.dim ?? []).map((d) => Number(d.size ?? 0));
  const n = shape.reduce((a, b) => a * b, 1);
  const vals = t.floatVal ?? t.intVal ?? t.int64Val?.map(Number);
  if (!vals || vals.length === 0) return undefined;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Number(vals[Math.min(i, vals.length - 1)]);
  if (t.dtype === 'DT_INT32' || t.dtype === 'DT_INT64') {
    return { dtype: 'int32', shape, data: Int32Array.from(data) };
  }
  return float32(shape, data);
}
