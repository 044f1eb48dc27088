/** Imported nsfwjs models run by ONNX Runtime vs the same files run by TF.js (cpu backend). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importTfjsModel } from '../../src/importers/index.js';
import { MOBILENET_V2_MID_PREFIXES } from '../../src/models/nsfwjs.js';
import { loadNpmTfjsModel } from '../../src/sources/npm-models.js';
import { artifacts, maxAbsDiff, nhwcToNchw, runGraft, seeded, tf } from './helpers.js';

interface Case {
  dir: string;
  size: number;
  batch: number;
  /** Intermediate tensor: graft name (NCHW in the graph) and the TF.js layer/node name. */
  mid: [string, string];
  graph?: boolean;
}

const GRAPH_PREFIX = MOBILENET_V2_MID_PREFIXES[0]!;

const CASES: Case[] = [
  { dir: 'mobilenet_v2', size: 224, batch: 2, mid: ['block_15_add', 'block_15_add'] },
  {
    dir: 'mobilenet_v2_mid',
    size: 224,
    batch: 2,
    mid: ['MobilenetV2/expanded_conv_15/add', `${GRAPH_PREFIX}MobilenetV2/expanded_conv_15/add`],
    graph: true,
  },
  // TF.js's cpu backend needs ~30 s for one InceptionV3 image: batch 1.
  { dir: 'inception_v3', size: 299, batch: 1, mid: ['mixed7', 'mixed7'] },
];

async function reference(c: Case, files: Awaited<ReturnType<typeof loadNpmTfjsModel>>, x: tf.Tensor4D) {
  if (c.graph) {
    const gm = await tf.loadGraphModel(tf.io.fromMemory(artifacts(files.json, files.shards)));
    const outs = gm.execute(x, ['Identity', c.mid[1]]) as tf.Tensor[];
    return { final: outs[0]!, mid: outs[1]! };
  }
  const lm = await tf.loadLayersModel(tf.io.fromMemory(artifacts(files.json, files.shards)));
  const probe = tf.model({
    inputs: lm.inputs,
    outputs: [lm.outputs[0]!, lm.getLayer(c.mid[1]).output as tf.SymbolicTensor],
  });
  const outs = probe.predict(x) as tf.Tensor[];
  return { final: outs[0]!, mid: outs[1]! };
}

for (const c of CASES) {
  test(`nsfwjs ${c.dir}: ONNX Runtime matches TF.js (final and ${c.mid[0]})`, async (t) => {
    const files = await loadNpmTfjsModel('nsfwjs', `dist/models/${c.dir}`);
    const model = importTfjsModel(
      files.json,
      files.shards,
      c.graph ? { stripPrefixes: MOBILENET_V2_MID_PREFIXES } : {},
    );
    const shape = [c.batch, c.size, c.size, 3];
    const x = seeded(
      shape.reduce((a, b) => a * b, 1),
      2024,
    );
    const ours = await runGraft(model, { dtype: 'float32', shape, data: x }, [c.mid[0]]);
    const ref = await reference(c, files, tf.tensor4d(x, shape as [number, number, number, number]));
    const outName = model.graph.outputs[0]!.name;
    assert.deepEqual(ours[outName]!.shape, ref.final.shape);
    const finalDiff = maxAbsDiff(ours[outName]!.data as Float32Array, await ref.final.data());
    const midRef = nhwcToNchw(await ref.mid.data(), ref.mid.shape);
    const midDiff = maxAbsDiff(ours[c.mid[0]]!.data as Float32Array, midRef);
    const midScale = midRef.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    t.diagnostic(
      `${c.dir}: final max|Δ| = ${finalDiff.toExponential(2)}, ${c.mid[0]} max|Δ| = ${midDiff.toExponential(2)} (max|x| ${midScale.toFixed(1)})`,
    );
    assert.ok(finalDiff <= 1e-4, `final diff ${finalDiff}`);
    assert.ok(midDiff <= 1e-4, `${c.mid[0]} diff ${midDiff}`);
    tf.disposeVariables();
  });
}
