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
 * - Node's heap sizing for a container memory limit (node-heap.ts).
 * - The SQS actions the consumer calls, which the IAM policy grants (permissions.ts).
 * - The health port's default and the probe paths (probes.ts), shared with the health server.
 * - The OTEL_* environment that turns tracing on (tracing-config.ts), and the names of the Prometheus
 *   metrics alert rules read (metric-names.ts, checked against the real registry by a test).
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
export { SQS_ACTIONS_USED, type SqsActionUsed } from "./permissions";
export { PROBE_PATHS, type ProbePath } from "./probes";
export { isHttpUrl, OTLP_PROTOCOLS, renderTracingEnv, type OtlpProtocol } from "../tracing-config";
export { METRIC_NAMES } from "./metric-names";
export { SQS_MAX_BODY_MIB, settingsWarnings, type DeploymentSettings, type SettingWarning } from "./settings-warnings";

/** The port the health server listens on unless a stack sets `consumer.healthPort` (HEALTH_PORT). */
export const DEFAULT_HEALTH_PORT: number = DEFAULT_TUNABLES.healthPort;
