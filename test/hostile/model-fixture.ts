/** Tiny image classifiers written through writeModelDir (labels and hash tied to model.onnx), for the model-directory cases. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeModelDir, type ManifestFields, type ModelManifest } from '../../src/export/manifest.js';
import { decodeModel } from '../../src/onnx/io.js';
import type { Model } from '../../src/onnx/ir.js';
import { buildFixtureModel, fixturePreprocess } from '../serve/fixture-model.js';

/** The fixture graph for `labels` (built once in `scratch`) and the graft.json fields that go with it. */
export async function fixtureParts(
  scratch: string,
  labels: string[],
): Promise<{ model: Model; fields: ManifestFields }> {
  const dir = await buildFixtureModel(join(scratch, `fixture-${labels.length}`), { labels, size: 8 });
  const model = decodeModel(await readFile(join(dir, 'model.onnx')));
  const fields: ManifestFields = {
    task: 'image-classification',
    labels,
    inputs: ['input'],
    output: 'probabilities',
    preprocess: fixturePreprocess(8),
    base: { id: 'fixture/tiny', sha256: '0'.repeat(64) },
    featureTensor: 'flat',
    head: { kind: 'linear' },
    training: {},
    metrics: {},
  };
  return { model, fields };
}

export async function writeFixtureDir(
  scratch: string,
  out: string,
  labels: string[],
): Promise<ModelManifest> {
  const { model, fields } = await fixtureParts(scratch, labels);
  return writeModelDir(out, model, fields);
}
