/** The report's HTML sections (tables, cards, the mistakes gallery). Every user string goes through escapeHtml. */
import { escapeHtml as e, fmt, pct, safeImageDataUri } from './escape.js';
import type { ChartSpec } from './charts.js';
import type { ReportData, SettingValue } from './types.js';
import { SMALL_SAMPLE, wilsonInterval } from '../eval/interval.js';

/** Held-out examples behind the evaluation: the confusion matrix's total. */
const heldOutCount = (data: ReportData): number =>
  data.evaluation.confusion.reduce((sum, row) => sum + row.reduce((a, b) => a + b, 0), 0);

/** ' (95% CI a–b)' under SMALL_SAMPLE examples, '' otherwise (n = 0: unknown, nothing shown). */
function interval(accuracy: number, n: number): string {
  if (n === 0 || n >= SMALL_SAMPLE) return '';
  const { low, high } = wilsonInterval(Math.round(accuracy * n), n);
  return `<div class="ci">95% CI ${pct(low)}–${pct(high)}</div>`;
}

function table(head: string[], rows: string[][], cls = ''): string {
  const th = head.map((h) => `<th>${e(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table class="${cls}"><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${e(title)}</h2>\n${body}\n</section>`;
}

export function header(data: ReportData): string {
  const ev = data.evaluation;
  const card = (label: string, value: string) =>
    `<div class="card"><div class="value">${value}</div><div class="label">${e(label)}</div></div>`;
  const when = data.createdAt ? ` · ${e(data.createdAt)}` : '';
  const n = heldOutCount(data);
  const small = n < SMALL_SAMPLE;
  // A tiny held-out split says little: the cross-validated estimate on the training split goes beside it.
  const cv = data.candidates?.find((c) => c.chosen && !c.skipped)?.cvAccuracy;
  const trainN = data.dataset.splits['train'];
  const cvCard =
    small && cv !== undefined
      ? card(`cross-validated (train${trainN ? `, n=${trainN}` : ''})`, pct(cv) + interval(cv, trainN ?? 0))
      : '';
  return `<header><h1>${e(data.title)}</h1>
<p class="sub">model <code>${e(data.modelId)}</code> · data set <b>${e(data.dataset.name)}</b>${when}</p>
<div class="cards">${card(`accuracy (${ev.split ?? 'validation'}${small ? `, n=${n}` : ''})`, pct(ev.accuracy) + interval(ev.accuracy, n))}${cvCard}${card('macro F1', fmt(ev.macroF1))}${card('log loss', fmt(ev.logLoss))}${card('classes', String(ev.labels.length))}</div>
</header>`;
}

export function datasetSection(data: ReportData): string {
  const splits = Object.keys(data.dataset.splits);
  const rows = Object.entries(data.dataset.perClass).map(([label, counts]) => [
    e(label),
    ...splits.map((s) => e(counts[s] ?? 0)),
  ]);
  rows.push(['<b>total</b>', ...splits.map((s) => `<b>${e(data.dataset.splits[s])}</b>`)]);
  return section('dataset', `Data set: ${data.dataset.name}`, table(['class', ...splits], rows, 'num'));
}

const settingText = (v: SettingValue): string => (v === null ? '–' : String(v));

export function settingsSection(data: ReportData): string {
  const settings = table(
    ['setting', 'value'],
    Object.entries(data.settings).map(([k, v]) => [e(k), `<code>${e(settingText(v))}</code>`]),
  );
  const timing = table(
    ['phase', 'seconds', 'examples/s'],
    [...new Set([...Object.keys(data.timing.durations), ...Object.keys(data.timing.throughput)])].map((k) => [
      e(k),
      fmt(data.timing.durations[k], 2),
      fmt(data.timing.throughput[k], 1),
    ]),
    'num',
  );
  return section(
    'settings',
    'Settings and timing',
    `<div class="row"><div>${settings}</div><div>${timing}</div></div>`,
  );
}

export function chartSection(id: string, title: string, charts: readonly ChartSpec[], extra = ''): string {
  if (charts.length === 0 && extra === '') return '';
  const divs = charts.map((c) => {
    const attrs = Object.entries(c.attrs ?? {})
      .map(([k, v]) => ` ${k}="${e(v)}"`)
      .join('');
    return `<figure><figcaption>${e(c.title)}</figcaption><div class="chart" id="${e(c.id)}" style="height:${c.height ?? 320}px"${attrs}></div></figure>`;
  });
  return section(id, title, `<div class="charts">${divs.join('\n')}</div>${extra}`);
}

export function metricsTable(data: ReportData): string {
  const ev = data.evaluation;
  const rows = ev.labels.map((label, k) => {
    const s = ev.perClass[k];
    return [e(label), fmt(s?.precision), fmt(s?.recall), fmt(s?.f1), e(s?.support ?? 0)];
  });
  return table(['class', 'precision', 'recall', 'F1', 'support'], rows, 'num');
}

export function comparisonTable(data: ReportData): string {
  if (data.comparisons.length === 0) return '';
  // Every comparison is evaluated on the same held-out examples as the model.
  const n = heldOutCount(data);
  if (n >= SMALL_SAMPLE) {
    const rows = data.comparisons.map((c) => [e(c.name), pct(c.accuracy), fmt(c.macroF1)]);
    return table(['model', 'accuracy', 'macro F1'], rows, 'num');
  }
  const rows = data.comparisons.map((c) => {
    const { low, high } = wilsonInterval(Math.round(c.accuracy * n), n);
    return [e(c.name), pct(c.accuracy), `${pct(low)}–${pct(high)}`, fmt(c.macroF1)];
  });
  return table(['model', 'accuracy', `95% interval (n=${n})`, 'macro F1'], rows, 'num');
}

const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB`;

/** Teacher and student side by side: held-out accuracy, agreement, size and speed. */
export function distillationSection(data: ReportData): string {
  const sides = data.distillation;
  if (!sides || sides.length === 0) return '';
  const rows = sides.map((s) => [
    `${e(s.role)} <code>${e(s.model)}</code>`,
    pct(s.accuracy),
    s.agreement === undefined ? '–' : pct(s.agreement),
    e(s.parameters.toLocaleString('en-US')),
    megabytes(s.bytes),
    s.imagesPerSecond === undefined ? '–' : fmt(s.imagesPerSecond, 1),
  ]);
  return section(
    'distillation',
    `Teacher and student (${data.evaluation.split ?? 'validation'} split, images/s on this machine)`,
    table(
      ['model', 'accuracy', 'agreement with teacher', 'parameters', 'file size', 'images/s'],
      rows,
      'num',
    ),
  );
}

export function candidatesSection(data: ReportData): string {
  const c = data.candidates;
  if (!c || c.length === 0) return '';
  const rows = c.map((r) => [
    `${e(r.model)} <code>${e(r.tensor)}</code>${r.chosen ? ' <b>(chosen)</b>' : ''}`,
    e(r.head),
    String(r.dim),
    r.skipped ? `skipped (${e(r.skipped)})` : pct(r.cvAccuracy),
    `${r.seconds.toFixed(1)} s`,
  ]);
  return section(
    'candidates',
    'What was tried (cross-validation on the training split)',
    table(['features', 'head', 'dims', 'CV accuracy', 'time'], rows, 'num'),
  );
}

export function mistakesSection(data: ReportData): string {
  if (data.mistakes.length === 0) return section('mistakes', 'Most confident mistakes', '<p>None.</p>');
  const items = data.mistakes.map((m) => {
    const uri = safeImageDataUri(m.thumbnail);
    const img = uri ? `<img class="thumb" alt="${e(m.id)}" src="${uri}">` : '';
    const text = m.text !== undefined ? `<blockquote>${e(m.text)}</blockquote>` : '';
    return `<div class="mistake">${img}${text}<div><code>${e(m.id)}</code></div>
<div>true <b>${e(m.trueLabel)}</b>, predicted <b>${e(m.predictedLabel)}</b> (${pct(m.confidence)})</div></div>`;
  });
  return section('mistakes', 'Most confident mistakes', `<div class="mistakes">${items.join('\n')}</div>`);
}
