/** The report's stylesheet (inlined into the page). */
export const REPORT_CSS = `
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1f2328; margin: 0 auto;
  max-width: 1180px; padding: 16px 24px 48px; background: #fff; }
h1 { font-size: 24px; margin: 8px 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; }
.sub { color: #59636e; margin: 0 0 12px; }
code { font: 12px ui-monospace, 'SFMono-Regular', Menlo, monospace; background: #f6f8fa; padding: 1px 4px; border-radius: 4px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { border: 1px solid #d0d7de; border-radius: 8px; padding: 8px 16px; min-width: 120px; }
.card .value { font-size: 22px; font-weight: 600; } .card .label { color: #59636e; font-size: 12px; }
.card .ci { font-size: 12px; font-weight: 400; color: #59636e; }
table { border-collapse: collapse; margin: 8px 0; } th, td { padding: 3px 10px; border-bottom: 1px solid #eaeef2; text-align: left; }
table.num td + td, table.num th + th { text-align: right; font-variant-numeric: tabular-nums; }
.row { display: flex; gap: 32px; flex-wrap: wrap; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 16px; }
figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: 4px; }
.chart { width: 100%; min-height: 240px; }
.mistakes { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px; }
.mistake { border: 1px solid #d0d7de; border-radius: 8px; padding: 8px; font-size: 12px; word-break: break-word; }
.mistake .thumb { display: block; width: 64px; height: 64px; object-fit: contain; image-rendering: pixelated; margin-bottom: 4px; }
blockquote { margin: 0 0 4px; padding: 4px 8px; background: #f6f8fa; border-left: 3px solid #d0d7de; max-height: 8em; overflow: auto; }
footer { margin-top: 32px; color: #8c959f; font-size: 12px; }
`;
