/**
 * The autoscaling concern (AUTOSCALING_KEYS): whether KEDA scales the consumer on queue depth, and how.
 * Its defaults and checks read two other slices, passed in: the consumer's tunables (messagesPerPod
 * defaults to one pod's handler concurrency; the scale-down window outlasts the termination grace
 * period) and the workload (its `replicas` is the count KEDA holds while the queue cannot be read).
 */
import { terminationGracePeriodSeconds, type SettingProblem, type Tunables } from "../../consumer/src/contract";
import { CONSUMER_KEY } from "./keys";
import { AUTOSCALING_MODES } from "./keys";
import { checkEnum, type ConfigInput } from "./parse";
import type { WorkloadConfig } from "./workload";

/** Kubernetes' default scale-down stabilization window; the program uses a longer one when the grace period is longer. */
export const MIN_SCALE_DOWN_STABILIZATION_SECONDS = 300;

/**
 * The longest scale-down stabilization window the API server accepts: `stabilizationWindowSeconds` is
 * bounded 0..3600 in the HPA API (kubernetes/kubernetes pkg/apis/autoscaling/validation: "must be less than
 * or equal to 3600") and in KEDA's ScaledObject CRD (kedacore/charts v2.20.2
 * keda/templates/crds/crd-scaledobjects.yaml, `maximum: 3600`), which KEDA copies into the HPA it makes.
 */
export const MAX_SCALE_DOWN_STABILIZATION_SECONDS = 3600;

/** Autoscaling on: everything the ScaledObject is built from. */
export interface EnabledAutoscaling {
  readonly enabled: true;
  /** minReplicaCount: 0 scales to zero when the queue is quiet. */
  readonly minReplicas: number;
  /** maxReplicaCount. */
  readonly maxReplicas: number;
  /** The aws-sqs-queue trigger's queueLength: target messages (visible + in flight) per pod. */
  readonly messagesPerPod: number;
  /** activationQueueLength: a scaled-to-zero consumer wakes when the queue holds more than this. */
  readonly activationMessages: number;
  /** pollingInterval (s): how often KEDA reads the queue. */
  readonly pollingIntervalSeconds: number;
  /** cooldownPeriod (s): quiet time before the last pod goes (minReplicas 0 only). */
  readonly cooldownPeriodSeconds: number;
  /** fallback.replicas: the count KEDA holds after FALLBACK_FAILURE_THRESHOLD failed readings (the stack's `replicas`). */
  readonly fallbackReplicas: number;
  /** The HPA's scale-down stabilization window (s): max(300, the pods' termination grace period). */
  readonly scaleDownStabilizationSeconds: number;
}

export type AutoscalingConfig = { readonly enabled: false } | EnabledAutoscaling;

/** The slices autoscaling depends on; `tunables` is undefined when the consumer block was rejected. */
export interface AutoscalingDependencies {
  readonly tunables: Tunables | undefined;
  readonly workload: WorkloadConfig;
}

/** The autoscaling settings, or undefined when any is bad (each bad key is a problem naming the fix). */
export function readAutoscaling(
  input: ConfigInput,
  deps: AutoscalingDependencies,
  problems: SettingProblem[],
): AutoscalingConfig | undefined {
  const before = problems.length;
  const mode = checkEnum(input, "autoscaling", input.values.autoscaling, AUTOSCALING_MODES, problems);
  if (mode === undefined) return undefined;
  // A tuning key set while autoscaling is off is rejected with the other keys that would do nothing (applies-when.ts).
  if (mode === "off") return { enabled: false };

  const { minReplicas, maxReplicas, activationMessages, pollingIntervalSeconds, cooldownPeriodSeconds } = input.values;
  const floor = Math.max(1, minReplicas);
  if (maxReplicas < floor) {
    problems.push({ key: input.key("maxReplicas"), reason: `${maxReplicas} is below minReplicas (${minReplicas})` });
  }
  const messagesPerPod =
    input.values.messagesPerPod === 0 ? deps.tunables?.handlerConcurrency : input.values.messagesPerPod;
  if (messagesPerPod !== undefined && activationMessages >= messagesPerPod * maxReplicas) {
    problems.push({
      key: input.key("activationMessages"),
      reason: `${activationMessages} is not below messagesPerPod x maxReplicas (${messagesPerPod} x ${maxReplicas}): the first pod would start only when every pod is already needed`,
    });
  }
  if (minReplicas === 0 && cooldownPeriodSeconds < pollingIntervalSeconds) {
    problems.push({
      key: input.key("cooldownPeriodSeconds"),
      reason: `${cooldownPeriodSeconds} is below pollingIntervalSeconds (${pollingIntervalSeconds}): a single empty reading would scale the consumer to zero`,
    });
  }
  const fallbackReplicas = deps.workload.replicas;
  if (maxReplicas >= floor && (fallbackReplicas < floor || fallbackReplicas > maxReplicas)) {
    problems.push({
      key: input.key("replicas"),
      reason: `${fallbackReplicas} is outside minReplicas..maxReplicas (${floor}..${maxReplicas}); with autoscaling on, replicas is the count KEDA holds while the queue cannot be read`,
    });
  }
  // The window must outlast the pods' termination grace period, and the API caps it.
  if (deps.tunables !== undefined) {
    const grace = terminationGracePeriodSeconds(deps.tunables);
    if (grace > MAX_SCALE_DOWN_STABILIZATION_SECONDS) {
      problems.push({
        key: `${input.key(CONSUMER_KEY)}.shutdownBudgetSeconds`,
        reason: `${deps.tunables.shutdownBudgetSeconds} s gives a termination grace period of ${grace} s, which the scale-down stabilization window must outlast, but KEDA's ScaledObject and the HPA accept at most ${MAX_SCALE_DOWN_STABILIZATION_SECONDS} s; with autoscaling keda, keep it at most ${MAX_SCALE_DOWN_STABILIZATION_SECONDS - (grace - deps.tunables.shutdownBudgetSeconds)} s`,
      });
    }
  }
  if (problems.length > before || messagesPerPod === undefined || deps.tunables === undefined) return undefined;
  return {
    enabled: true,
    minReplicas,
    maxReplicas,
    messagesPerPod,
    activationMessages,
    pollingIntervalSeconds,
    cooldownPeriodSeconds,
    fallbackReplicas,
    scaleDownStabilizationSeconds: Math.max(
      MIN_SCALE_DOWN_STABILIZATION_SECONDS,
      terminationGracePeriodSeconds(deps.tunables),
    ),
  };
}
