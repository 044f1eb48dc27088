/** State shared by the TF graph op converters: builder, tensors with their layout, lazy constants. */
import { GraftError } from '../../errors.js';
import { attr, GraphBuilder } from '../../onnx/builder.js';
import type { Attribute, Dim } from '../../onnx/ir.js';
import type { Tensor } from '../../tensor.js';
import type { TfNode } from './types.js';

/**
 * A TF tensor in the ONNX graph. `shape` is in TF (NHWC) order; rank-4 tensors may be stored NCHW
 * (`nchw: true`). Constants carry their value and become initializers only when used as-is.
 */
export interface GTensor {
  readonly name: string;
  readonly shape: readonly Dim[] | undefined;
  readonly nchw: boolean;
  readonly value?: Tensor;
}

export class GraphContext {
  readonly b: GraphBuilder;
  private readonly tensors = new Map<string, GTensor>();
  private readonly converted = new Map<string, string>();

  constructor(
    graphName: string,
    private readonly rename: (tfName: string) => string,
  ) {
    this.b = new GraphBuilder(graphName);
  }

  onnxName(tfName: string): string {
    return this.rename(tfName);
  }

  set(tfName: string, t: GTensor): void {
    this.tensors.set(tfName, t);
  }

  /** The tensor an input reference (`name`, `name:0`) names. */
  get(node: TfNode, ref: string): GTensor {
    const base = ref.replace(/:0$/, '');
    const t = this.tensors.get(base);
    if (!t) {
      throw new GraftError('CORRUPT_MODEL', `node '${node.name}' reads '${ref}', which no node produces`, {
        node: node.name,
      });
    }
    return t;
  }

  /** A node's data inputs (control inputs `^x` dropped). */
  inputs(node: TfNode): GTensor[] {
    return (node.input ?? []).filter((r) => !r.startsWith('^')).map((r) => this.get(node, r));
  }

  op(
    node: TfNode,
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, Attribute> = {},
    last = false,
  ): string {
    const out = this.onnxName(node.name);
    return this.b.op(opType, inputs, attrs, { name: `${out}/${opType}`, outputs: last ? [out] : 1 });
  }

  /** An initializer for a constant (or a transformed form of it, under a suffix); made once. */
  constInit(t: GTensor, suffix = '', make?: (v: Tensor) => Tensor): string {
    const key = `${t.name}${suffix}`;
    const done = this.converted.get(key);
    if (done) return done;
    const name = this.b.initializer(this.b.unique(key), make ? make(t.value!) : t.value!);
    this.converted.set(key, name);
    return name;
  }

  /** The tensor's name in TF (NHWC) order. */
  native(t: GTensor): string {
    if (t.value) return this.constInit(t);
    if (!t.nchw) return t.name;
    return this.transpose(t, '/nhwc', [0, 2, 3, 1]);
  }

  /** The tensor's name in NCHW order (rank 4). */
  nchw(t: GTensor): string {
    if (t.nchw) return t.name;
    if (t.value) return this.constInit(t, '/nchw', nhwcConstToNchw);
    return this.transpose(t, '/nchw', [0, 3, 1, 2]);
  }

  private transpose(t: GTensor, suffix: string, perm: number[]): string {
    const key = `${t.name}${suffix}`;
    const done = this.converted.get(key);
    if (done) return done;
    const out = this.b.op(
      'Transpose',
      [t.name],
      { perm: attr.ints(perm) },
      { name: key, outputs: [this.b.unique(key)] },
    );
    this.converted.set(key, out);
    return out;
  }
}

function nhwcConstToNchw(v: Tensor): Tensor {
  const [n, h, w, c] = v.shape as [number, number, number, number];
  const src = v.data as Float32Array;
  const dst = new Float32Array(src.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let ch = 0; ch < c; ch++)
          dst[((b * c + ch) * h + y) * w + x] = src[((b * h + y) * w + x) * c + ch]!;
  return { dtype: v.dtype, shape: [n, c, h, w], data: dst } as Tensor;
}

export function unsupportedNode(node: TfNode, what?: string): GraftError {
  const detail = what ? `: ${what}` : '';
  return new GraftError(
    'UNSUPPORTED_OP',
    `node '${node.name}' has op '${node.op}', which graft cannot import${detail}`,
    {
      node: node.name,
      op: node.op,
    },
  );
}
