/**
 * A prom-client Histogram for the observations berth makes on every pod (some 30: extension points, attempt and
 * algorithm durations, each score plugin's weighted score and share). prom-client's own observe validates the
 * label names, builds a key string from the labels and turns the bucket bound into a property name on each call,
 * about 1–2 µs; here a label set is resolved to its series once per call by one Map lookup and the bucket found in
 * a Float64Array, and the exposition is written from those series. The output is prom-client's own format, the
 * same text its Histogram writes (test/observe/fastHistogram.test.ts compares the two). Label names are checked when
 * a series is created, not on every observation.
 */
import type { Aggregator, LabelValues, Metric, MetricObjectWithValues, MetricType, MetricValueWithName, Registry } from 'prom-client';

export interface FastHistogramConfiguration<T extends string> {
  name: string;
  help: string;
  labelNames?: readonly T[];
  buckets: readonly number[];
  registers?: readonly Registry[];
}

interface Series {
  labels: Record<string, string | number>;
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/** One line of the exposition, as prom-client's Registry reads it (sharedLabels are the series' own labels). */
interface ExportValue {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string | number>;
  value: number;
  metricName: string;
  /** prom-client writes null on buckets (no exemplars kept) and nothing on _sum and _count. */
  exemplar?: null;
}

/**
 * Registered with prom-client's Registry as a metric of its own (the Registry reads name, help, type, aggregator and
 * getForPromString/get, and calls reset): prom-client's Histogram keeps its state where a faster observe could not
 * reach it without depending on its internals.
 */
export class FastHistogram<T extends string = string> {
  readonly type = 'histogram';
  readonly aggregator: Aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly bounds: Float64Array;
  private readonly names: readonly T[];
  private readonly series = new Map<string, Series>();

  constructor(config: FastHistogramConfiguration<T>) {
    this.name = config.name;
    this.help = config.help;
    this.bounds = Float64Array.from([...config.buckets].sort((a, b) => a - b));
    this.names = [...(config.labelNames ?? [])];
    if (this.names.includes('le' as T)) throw new Error('le is a reserved label keyword');
    if (this.labelless()) this.seriesFor(undefined);
    for (const r of config.registers ?? []) r.registerMetric(this as unknown as Metric);
  }

  observe(value: number): void;
  observe(labels: LabelValues<T>, value: number): void;
  observe(labelsOrValue: LabelValues<T> | number, value?: number): void {
    const labels = typeof labelsOrValue === 'number' ? undefined : labelsOrValue;
    const v = typeof labelsOrValue === 'number' ? labelsOrValue : (value as number);
    if (!Number.isFinite(v)) throw new TypeError(`Value is not a valid number: ${String(v)}`);
    const s = this.seriesFor(labels);
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && v > (bounds[i] as number)) i++;
    s.counts[i] = (s.counts[i] as number) + 1;
    s.sum += v;
    s.count += 1;
  }

  /**
   * Creates the series at 0 (an alert's increase() then has a first sample to compare with). Unlike prom-client's
   * zero, an existing series keeps its counts: berth zeroes its alert series again on every configuration reload, and
   * prom-client's would have reset them, which Prometheus reads as a counter reset.
   */
  zero(labels: LabelValues<T>): void {
    this.seriesFor(labels);
  }

  reset(): void {
    this.series.clear();
  }

  /** prom-client's Registry writes the text from this (Histogram's own method has the same shape). */
  async getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: ExportValue[] = [];
    for (const s of this.series.values()) this.exportSeries(s, values);
    return this.withValues(values as unknown as MetricValueWithName<string>[]);
  }

  async get(): Promise<MetricObjectWithValues<MetricValueWithName<T>>> {
    const data = await this.getForPromString();
    const values = (data.values as unknown as ExportValue[]).map((v) => ({ value: v.value, metricName: v.metricName, labels: { ...v.sharedLabels, ...v.labels }, ...(v.exemplar === null ? { exemplar: null } : {}) }));
    return this.withValues(values as unknown as MetricValueWithName<T>[]);
  }

  private withValues<V extends MetricValueWithName<string>>(values: V[]): MetricObjectWithValues<V> {
    // The shape prom-client's metrics return (its typings also list a collect function, which none of them returns).
    return { name: this.name, help: this.help, type: 'histogram' as unknown as MetricType, values, aggregator: this.aggregator } as MetricObjectWithValues<V>;
  }

  /** A histogram without labels exposes its one series from the start, as prom-client's does. */
  private labelless(): boolean {
    return this.names.length === 0;
  }

  private seriesFor(labels: LabelValues<T> | undefined): Series {
    const key = this.keyOf(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels: this.validated(labels), counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    return s;
  }

  private keyOf(labels: LabelValues<T> | undefined): string {
    let key = '';
    for (const name of this.names) {
      const v = labels?.[name];
      key += v === undefined ? '\x01' : `${v}\x00`;
    }
    return key;
  }

  /** The label set as prom-client checks it: only declared names (a new series is rare, so this is off the hot path). */
  private validated(labels: LabelValues<T> | undefined): Record<string, string | number> {
    const out: Record<string, string | number> = {};
    for (const [name, v] of Object.entries(labels ?? {})) {
      if (!(this.names as readonly string[]).includes(name)) throw new Error(`Added label "${name}" is not included in initial labelset: ${JSON.stringify(this.names)}`);
      if (v !== undefined) out[name] = v as string | number;
    }
    return out;
  }

  private exportSeries(s: Series, into: ExportValue[]): void {
    const bucket = `${this.name}_bucket`;
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += s.counts[i] as number;
      into.push({ labels: { le: this.bounds[i] as number }, sharedLabels: s.labels, value: cumulative, metricName: bucket, exemplar: null });
    }
    into.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket, exemplar: null });
    into.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
    into.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` });
  }
}
