/**
 * Which teacher output column scores each of the data's classes. Labels match by name, or through a label map
 * (data label → teacher label, `--label-map 0=zero,1=one`). A data class the teacher cannot score is a
 * BAD_INPUT error listing both label sets; teacher classes the data lacks are dropped from its soft targets
 * (the softmax over the remaining logits) and reported.
 */
import { GraftError } from '../errors.js';

export interface LabelAlignment {
  /** columns[dataClass] = the teacher's column for it. */
  columns: Int32Array;
  /** Teacher labels no data class maps to. */
  unused: string[];
}

/** Parses `a=x,b=y` into a map (data label → teacher label). */
export function parseLabelMap(text: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const part of text.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    if (eq <= 0 || eq === p.length - 1)
      throw new GraftError('BAD_OPTION', `--label-map entry '${p}' is not <data label>=<teacher label>`);
    map[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
  }
  return map;
}

export function alignLabels(
  dataLabels: readonly string[],
  teacherLabels: readonly string[],
  labelMap: Readonly<Record<string, string>> = {},
): LabelAlignment {
  for (const key of Object.keys(labelMap))
    if (!dataLabels.includes(key))
      throw new GraftError('BAD_OPTION', `--label-map names '${key}', which is not a label of the data`, {
        label: key,
      });
  const index = new Map(teacherLabels.map((l, i) => [l, i]));
  const missing: string[] = [];
  const columns = Int32Array.from(dataLabels, (l) => {
    const col = index.get(labelMap[l] ?? l);
    if (col === undefined) missing.push(l);
    return col ?? -1;
  });
  if (missing.length)
    throw new GraftError(
      'BAD_INPUT',
      `the teacher's labels do not cover the data's: no teacher class for ${missing.map((m) => `'${m}'`).join(', ')}. ` +
        `Data labels: ${dataLabels.join(', ')}. Teacher labels: ${teacherLabels.join(', ')}. ` +
        `Map them with --label-map <data label>=<teacher label>,… (library: labelMap)`,
      { dataLabels: [...dataLabels], teacherLabels: [...teacherLabels], missing },
    );
  const used = new Set(columns);
  if (used.size !== columns.length)
    throw new GraftError('BAD_OPTION', '--label-map maps two data labels to the same teacher label');
  return { columns, unused: teacherLabels.filter((_, i) => !used.has(i)) };
}

/** Teacher logits [n, teacherClasses] → [n, dataClasses] in the data's label order. */
export function selectColumns(logits: Float32Array, rows: number, columns: Int32Array): Float32Array {
  const width = logits.length / rows;
  const out = new Float32Array(rows * columns.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < columns.length; c++) out[r * columns.length + c] = logits[r * width + columns[c]!]!;
  return out;
}
