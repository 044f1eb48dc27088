/** Server metrics in the Prometheus text exposition format (version 0.0.4), written by hand. */

export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
export const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

type Labels = Readonly<Record<string, string>>;

const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escape(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** A counter keyed by a label set. */
export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const entry = this.values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.values.set(key, entry);
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values())
      lines.push(`${this.name}${labelText(labels)} ${value}`);
    return lines.join('\n');
  }
}

export class Gauge {
  value = 0;
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  render(): string {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} gauge`,
      `${this.name} ${this.value}`,
    ].join('\n');
  }
}

/** A histogram without labels: cumulative bucket counts, sum and count. */
export class Histogram {
  private readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) this.counts[i]!++;
  }

  /** How many observations were ≤ `le` (cumulative, as exposed). */
  cumulative(le: number): number {
    let n = 0;
    for (let i = 0; i < this.buckets.length && this.buckets[i]! <= le; i++) n += this.counts[i]!;
    return n;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    let acc = 0;
    this.buckets.forEach((b, i) => {
      acc += this.counts[i]!;
      lines.push(`${this.name}_bucket{le="${b}"} ${acc}`);
    });
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`);
    lines.push(`${this.name}_sum ${this.sum}`, `${this.name}_count ${this.count}`);
    return lines.join('\n');
  }
}

/** Everything the server exposes on GET /metrics. */
export class ServerMetrics {
  readonly requests = new Counter('graft_http_requests_total', 'HTTP requests by route, method and status.');
  readonly errors = new Counter(
    'graft_http_errors_total',
    'Requests answered with an error, by route and code.',
  );
  readonly latency = new Histogram(
    'graft_http_request_duration_seconds',
    'Time from request received to response sent.',
    LATENCY_BUCKETS,
  );
  readonly batchSize = new Histogram(
    'graft_batch_size',
    'Rows per session.run of the dynamic batcher.',
    BATCH_BUCKETS,
  );
  readonly inferenceSeconds = new Histogram(
    'graft_inference_duration_seconds',
    'Time per batched session.run.',
    LATENCY_BUCKETS,
  );
  readonly predictions = new Counter('graft_predictions_total', 'Inputs classified.');
  readonly inFlight = new Gauge('graft_http_requests_in_flight', 'Requests being processed now.');

  render(): string {
    const all = [
      this.requests,
      this.errors,
      this.latency,
      this.batchSize,
      this.inferenceSeconds,
      this.predictions,
    ];
    return `${[...all.map((m) => m.render()), this.inFlight.render()].join('\n')}\n`;
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
