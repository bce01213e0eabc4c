/**
 * The part of a prom-client `Registry` the package uses. Structural, so the public
 * types never name prom-client (an optional peer): pass `register` or `new Registry()`.
 */
export interface PrometheusRegistry {
  registerMetric(metric: object): void;
  removeSingleMetric(name: string): void;
}

/** The `prometheus` manager option in its object form. */
export interface TaskflowPrometheusOptions {
  /** Where the metrics are registered. Default: prom-client's global `register`. */
  registry?: PrometheusRegistry;
  /** Prefix of every metric name. Default `'taskflow_'`. */
  prefix?: string;
}

/** The resolved form: null when the metrics are off. */
export interface ResolvedPrometheusOptions {
  registry: PrometheusRegistry | null;
  prefix: string;
}
