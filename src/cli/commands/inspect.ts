/** `graft inspect <model>`: inputs, outputs, parameters, ops and candidate feature tensors. */
import type { Command } from 'commander';
import { loadBackbone } from '../../models/registry.js';
import { summarizeModel, type TensorSummary } from '../../onnx/summary.js';
import { bold, printJson, table } from '../output.js';

const fmtShape = (t: TensorSummary) => (t.shape ? `[${t.shape.map((d) => d ?? '?').join(', ')}]` : '?');

export function registerInspect(program: Command): void {
  program
    .command('inspect <model>')
    .description('show a model: inputs, outputs, parameter count, ops, candidate feature tensors')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const { spec, model } = await loadBackbone(id);
      const s = summarizeModel(model);
      if (opts.json) return printJson({ id: spec.id, featureTensor: spec.featureTensor, ...s });
      const out = process.stdout;
      out.write(`${bold(spec.id)} — ${spec.description}\n`);
      out.write(
        `opset ${s.opset}, ${s.parameters.toLocaleString('en-US')} parameters, ${Object.values(s.ops).reduce((a, b) => a + b, 0)} nodes\n\n`,
      );
      out.write(
        `${table(
          ['input', 'dtype', 'shape'],
          s.inputs.map((t) => [t.name, t.dtype ?? '?', fmtShape(t)]),
        )}\n\n`,
      );
      out.write(
        `${table(
          ['output', 'dtype', 'shape'],
          s.outputs.map((t) => [t.name, t.dtype ?? '?', fmtShape(t)]),
        )}\n\n`,
      );
      const ops = Object.entries(s.ops).sort((a, b) => b[1] - a[1]);
      out.write(`${bold('ops')}: ${ops.map(([op, n]) => `${op}×${n}`).join(', ')}\n\n`);
      const registry = new Set([...spec.candidateFeatures, spec.featureTensor]);
      const rows = s.candidates
        .filter((c) => registry.has(c.name) || c.reason.startsWith('pooled'))
        .map((c) => [c.name, fmtShape(c), c.name === spec.featureTensor ? 'default features' : c.reason]);
      out.write(
        `${bold('candidate feature tensors')} (use with --features)\n${table(['tensor', 'shape', 'note'], rows)}\n`,
      );
    });
}
