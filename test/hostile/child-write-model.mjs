// Child process for the kill test (plain JavaScript over dist/, so it starts fast): writes `<out>` over and over,
// alternating the two models prepared in `<scratch>` (a checkpoints/ entry beside each), printing "writing" once
// the loop runs.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeModelDir } from '../../dist/export/manifest.js';
import { decodeModel } from '../../dist/onnx/io.js';

const [scratch, out] = process.argv.slice(2);
const parts = await Promise.all(
  ['2', '3'].map(async (n) => ({
    model: decodeModel(await readFile(join(scratch, `fixture-${n}`, 'model.onnx'))),
    fields: JSON.parse(await readFile(join(scratch, `fields-${n}.json`), 'utf8')),
  })),
);
process.stdout.write('writing\n');
for (let i = 0; ; i++) {
  const { model, fields } = parts[i % 2];
  await mkdir(join(out, 'checkpoints'), { recursive: true });
  await writeFile(join(out, 'checkpoints', `step-${i}`), String(i));
  await writeModelDir(out, model, fields);
}
