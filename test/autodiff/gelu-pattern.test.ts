/**
 * The exact GELU written as five nodes is differentiated as one GELU: the chain is recognised in its exported
 * forms, its gradient matches finite differences, and the backward pass reads none of the chain's inner values
 * (only x), so they die in the forward pass. A chain whose inner value is read elsewhere is left to the
 * generic rules.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findGeluPatterns } from '../../src/autodiff/gelu-pattern.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import type { Graph } from '../../src/onnx/ir.js';
import { checkGradients, makeTensor, type FloatDType } from './fd.js';

type Form = 'half-first' | 'half-last' | 'mul-inverse-sqrt2';

/** GELU(x) in one of the exporters' forms; returns the output and the chain's inner values. */
function gelu(
  b: GraphBuilder,
  dtype: FloatDType,
  x: string,
  form: Form,
): { y: string; erf: string; inner: string[] } {
  const c = (v: number) => b.constant('c', makeTensor(dtype, [], [v]));
  const scaled =
    form === 'mul-inverse-sqrt2' ? b.op('Mul', [c(Math.SQRT1_2), x]) : b.op('Div', [x, c(Math.SQRT2)]);
  const erf = b.op('Erf', [scaled]);
  const cdf = b.op('Add', [c(1), erf]);
  const partial = form === 'half-last' ? b.op('Mul', [x, cdf]) : b.op('Mul', [c(0.5), x]);
  const y = form === 'half-last' ? b.op('Mul', [partial, c(0.5)]) : b.op('Mul', [partial, cdf]);
  return { y, erf, inner: [scaled, erf, cdf, partial] };
}

/** The op types of the nodes that read `value`. */
function readers(graph: Graph, value: string): string[] {
  return graph.nodes.filter((n) => n.inputs.includes(value)).map((n) => n.opType);
}

describe('the exact GELU as a five-node chain', () => {
  for (const form of ['half-first', 'half-last', 'mul-inverse-sqrt2'] as const) {
    it(`(${form}) is found, differentiated from x alone, and matches finite differences`, async () => {
      let inner: string[] = [];
      let xOut = '';
      let found = 0;
      const r = await checkGradients({
        dtype: 'float32', // ONNX Runtime has no float64 Erf
        tolerance: 2e-3,
        params: { w: { shape: [3, 4] } },
        inputs: { x: { shape: [2, 3] } },
        build: (b, dtype) => {
          xOut = b.op('MatMul', ['x', 'w']);
          const chain = gelu(b, dtype, xOut, form);
          inner = chain.inner;
          const y = chain.y;
          found = findGeluPatterns(b.graph).size;
          return y;
        },
      });
      assert.equal(found, 1);
      assert.ok(r.maxError < 2e-3);
      // only the next node of the forward chain reads each inner value; the backward recomputes from x
      for (const v of inner) assert.equal(readers(r.model.graph, v).length, 1, v);
      assert.ok(readers(r.model.graph, xOut).length > 2);
    });
  }

  it('is left to the generic rules when an inner value is read elsewhere', async () => {
    let found = -1;
    let erfOut = '';
    await checkGradients({
      dtype: 'float32',
      tolerance: 2e-3,
      params: { w: { shape: [3, 4] } },
      inputs: { x: { shape: [2, 3] } },
      build: (b, dtype) => {
        const { y, erf } = gelu(b, dtype, b.op('MatMul', ['x', 'w']), 'half-first');
        erfOut = erf;
        const alsoRead = b.op('Neg', [erf]);
        found = findGeluPatterns(b.graph).size;
        return [y, alsoRead];
      },
    });
    assert.equal(found, 0);
    assert.ok(erfOut);
  });

  it('is not taken for a chain with other constants', () => {
    const graphWith = (half: number): Graph => {
      const b = new GraphBuilder('g');
      b.input('x', 'float32', ['N', 3]);
      const c = (v: number) => b.constant('c', makeTensor('float32', [], [v]));
      const cdf = b.op('Add', [c(1), b.op('Erf', [b.op('Div', ['x', c(Math.SQRT2)])])]);
      b.output(b.op('Mul', [b.op('Mul', [c(half), 'x']), cdf]));
      return b.graph;
    };
    assert.equal(findGeluPatterns(graphWith(0.5)).size, 1);
    assert.equal(findGeluPatterns(graphWith(0.6)).size, 0);
    // a trained constant is no constant
    const g = graphWith(0.5);
    const half = [...g.initializers].find(([, t]) => t.data[0] === 0.5)![0];
    assert.equal(findGeluPatterns(g, new Set([half])).size, 0);
  });
});
