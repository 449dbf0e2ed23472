/**
 * The HTTP paths the consumer's health server answers (consumer/src/health-server.ts) and the
 * Deployment's probes call (infra/workload.ts). One table, so the two cannot drift apart.
 *
 * - `liveness` (/livez): the process and its event loop answer, and abandoned handlers hold no more
 *   than half of HANDLER_CONCURRENCY (consumer/src/invocations.ts); 503 with the reason otherwise.
 * - `readiness` (/readyz): 200 while receiving successfully, 503 with the reason otherwise.
 * - `metrics` (/metrics): Prometheus text format.
 */
export const PROBE_PATHS = {
  liveness: "/livez",
  readiness: "/readyz",
  metrics: "/metrics",
} as const;

export type ProbePath = (typeof PROBE_PATHS)[keyof typeof PROBE_PATHS];
