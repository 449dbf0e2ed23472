/**
 * The contract between the consumer and the infrastructure that runs it: everything the Pulumi program
 * (`index.ts`, `infra/`) and the policy pack may know about the consumer, and the only module of
 * `consumer/` they may import (eslint.config.mjs enforces it; test/import-boundaries.test.ts proves the
 * rule bites).
 *
 * - The settings schema and its rendering (consumer/src/settings.ts): `validateTunables` checks a stack's
 *   `consumer` block exactly as the consumer checks its environment, `renderTunablesEnv` and `CONNECTION`
 *   give the Deployment's env names.
 * - Values derived from the settings: the queue's visibility timeout and the pod's termination grace period.
 * - Node's heap sizing for a container memory limit (node-heap.ts), and the memory budget for messages
 *   the consumer derives from the same limit (message-memory.ts).
 * - The SQS actions the consumer calls, which the IAM policy grants (permissions.ts).
 * - The health port's default and the probe paths (below), shared with the health server.
 * - The OTEL_* environment that turns tracing on (tracing-config.ts), and the names of the Prometheus
 *   metrics alert rules read (below, checked against the real registry by a test).
 * - Settings that are valid but hurt in production, as warnings for `pulumi preview` (settings-warnings.ts).
 *
 * A consumer change the infrastructure must follow shows up here; anything else in `consumer/` can change
 * without touching `infra/`.
 */
import { DEFAULT_TUNABLES } from "../settings";

export {
  CONNECTION,
  DEFAULT_TUNABLES,
  QUEUE_VISIBILITY_MARGIN_SECONDS,
  SQS_MAX_VISIBILITY_SECONDS,
  TERMINATION_MARGIN_SECONDS,
  TUNABLES,
  TUNABLE_KEYS,
  describeProblems,
  queueVisibilityTimeoutSeconds,
  renderTunablesEnv,
  terminationGracePeriodSeconds,
  validateTunables,
  type ParseResult,
  type SettingProblem,
  type TunableSpec,
  type Tunables,
} from "../settings";
export { HEAP_SHARE_OF_MEMORY_LIMIT, nodeHeapForMemoryLimit, nodeHeapOptions, type NodeHeap } from "./node-heap";
export {
  HELD_OVERHEAD_BYTES,
  RECEIVE_CHARGE_BYTES,
  SQS_MAX_MESSAGE_BYTES,
  heldChargeBytes,
  messageMemoryBudgetBytes,
  messagesOfLargestSize,
  largestMessageBytes,
  receiveChargeBytes,
  type LargestMessages,
} from "./message-memory";
export { SQS_ACTIONS_USED, type SqsActionUsed } from "./permissions";
export { isHttpUrl, OTLP_PROTOCOLS, renderTracingEnv, type OtlpProtocol } from "../tracing-config";
export { settingsWarnings, type DeploymentSettings, type SettingWarning } from "./settings-warnings";

/** The port the health server listens on unless a stack sets `consumer.healthPort` (HEALTH_PORT). */
export const DEFAULT_HEALTH_PORT: number = DEFAULT_TUNABLES.healthPort;

/**
 * The HTTP paths the consumer's health server answers (consumer/src/health.ts) and the
 * Deployment's probes call (infra/workload.ts). One table, so the two cannot drift apart.
 *
 * - `liveness` (/livez): the process and its event loop answer, and abandoned handlers hold no more
 *   than half of HANDLER_CONCURRENCY (consumer/src/handle.ts); 503 with the reason otherwise.
 * - `readiness` (/readyz): 200 while receiving successfully, 503 with the reason otherwise.
 * - `metrics` (/metrics): Prometheus text format.
 */
export const PROBE_PATHS = {
  liveness: "/livez",
  readiness: "/readyz",
  metrics: "/metrics",
} as const;

export type ProbePath = (typeof PROBE_PATHS)[keyof typeof PROBE_PATHS];

/**
 * Names of the consumer's Prometheus metrics (consumer/src/metrics.ts) that the program's alert rules
 * read (infra/prometheus.ts). The program's tests (test/prometheus*) check each against the real
 * registry, so a renamed metric fails a test instead of silencing an alert.
 */
export const METRIC_NAMES = {
  received: "sqs_consumer_messages_received_total",
  succeeded: "sqs_consumer_messages_succeeded_total",
  failed: "sqs_consumer_messages_failed_total",
  emptyReceives: "sqs_consumer_empty_receives_total",
  receiveDuration: "sqs_consumer_receive_duration_seconds",
  handlerDuration: "sqs_consumer_handler_duration_seconds",
  ready: "sqs_consumer_ready",
} as const;
