// The scaling decisions the drill reproduces, as pure functions of what the controllers know: KEDA's
// aws-sqs-queue metric and activation, and the HorizontalPodAutoscaler's replica calculation with its
// tolerance, stabilization windows, rate policies and bounds. No clocks or timers here: callers pass
// times in, so the unit tests can drive every rule.
//
// Sources: kedacore/keda pkg/scalers/aws_sqs_queue_scaler.go (metric, activation) and
// pkg/scaling/executor/scale_scaledobjects.go (0 <-> 1 and the cooldown); kubernetes/kubernetes
// pkg/controller/podautoscaler/horizontal.go and replica_calculator.go (the HPA), with the documented
// defaults of https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#default-behavior.

import type { QueueAttributes } from "../harness/queues";

/** KEDA's `aws-sqs-queue` trigger metadata that shapes the metric. */
export interface SqsTrigger {
  /** `queueLength`: the per-replica target (the HPA's AverageValue). */
  readonly queueLength: number;
  /** `activationQueueLength`: above it the trigger is active (0 -> 1); default 0. */
  readonly activationQueueLength: number;
  /** `scaleOnInFlight`: count ApproximateNumberOfMessagesNotVisible too; default true. */
  readonly scaleOnInFlight: boolean;
  /** `scaleOnDelayed`: count ApproximateNumberOfMessagesDelayed too; default false. */
  readonly scaleOnDelayed: boolean;
}

/** The metric the scaler reports: visible messages, plus in-flight and delayed ones when asked. */
export function queueMetric(
  attributes: QueueAttributes,
  trigger: Pick<SqsTrigger, "scaleOnInFlight" | "scaleOnDelayed">,
): number {
  return (
    attributes.visible +
    (trigger.scaleOnInFlight ? attributes.notVisible : 0) +
    (trigger.scaleOnDelayed ? attributes.delayed : 0)
  );
}

/** KEDA's activation: the trigger is active when the metric exceeds `activationQueueLength`. */
export function isActive(metric: number, trigger: Pick<SqsTrigger, "activationQueueLength">): boolean {
  return metric > trigger.activationQueueLength;
}

/** The HPA's default tolerance: a usage ratio within 10% of 1 changes nothing. */
export const HPA_TOLERANCE = 0.1;

/**
 * The HPA's raw recommendation for an AverageValue external metric: ceil(total / target), unless the
 * ratio of the current average to the target is within the tolerance, when the count stays.
 * With no replicas running the HPA does not act (KEDA owns 0 -> 1), so the count stays 0.
 */
export function hpaRecommendation(
  currentReplicas: number,
  metricTotal: number,
  targetPerReplica: number,
  tolerance = HPA_TOLERANCE,
): number {
  if (currentReplicas === 0) return 0;
  const usageRatio = metricTotal / (targetPerReplica * currentReplicas);
  if (Math.abs(1 - usageRatio) <= tolerance) return currentReplicas;
  return Math.ceil(metricTotal / targetPerReplica);
}

/** One HPA scaling policy (`behavior.scaleUp.policies[]` / `scaleDown.policies[]`). */
export interface ScalingPolicy {
  readonly type: "Pods" | "Percent";
  readonly value: number;
  readonly periodSeconds: number;
}

/** One direction of `behavior` (scaleUp or scaleDown). */
export interface ScalingRules {
  readonly stabilizationWindowSeconds: number;
  readonly selectPolicy: "Max" | "Min" | "Disabled";
  readonly policies: readonly ScalingPolicy[];
}

export interface HpaBehavior {
  readonly scaleUp: ScalingRules;
  readonly scaleDown: ScalingRules;
}

/** Kubernetes' defaults when a ScaledObject gives no behaviour. */
export const DEFAULT_BEHAVIOR: HpaBehavior = {
  scaleUp: {
    stabilizationWindowSeconds: 0,
    selectPolicy: "Max",
    policies: [
      { type: "Pods", value: 4, periodSeconds: 15 },
      { type: "Percent", value: 100, periodSeconds: 15 },
    ],
  },
  scaleDown: {
    stabilizationWindowSeconds: 300,
    selectPolicy: "Max",
    policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
  },
};

/** A past recommendation, kept for the stabilization windows (ms on the caller's clock). */
export interface Recommendation {
  readonly at: number;
  readonly replicas: number;
}

/** A past change of the replica count, kept for the rate policies: positive added, negative removed. */
export interface ScaleEvent {
  readonly at: number;
  readonly change: number;
}

/**
 * Stabilization: scaling up follows the lowest recommendation within the up window, scaling down the
 * highest within the down window, so one low reading never removes pods a recent high one asked for.
 * `history` includes the current recommendation.
 */
export function stabilize(
  currentReplicas: number,
  history: readonly Recommendation[],
  now: number,
  behavior: HpaBehavior,
): number {
  let upFloor = Number.POSITIVE_INFINITY;
  let downCeiling = Number.NEGATIVE_INFINITY;
  for (const r of history) {
    if (r.at > now - behavior.scaleUp.stabilizationWindowSeconds * 1000) upFloor = Math.min(upFloor, r.replicas);
    if (r.at > now - behavior.scaleDown.stabilizationWindowSeconds * 1000)
      downCeiling = Math.max(downCeiling, r.replicas);
  }
  const latest = history.at(-1)?.replicas ?? currentReplicas;
  // An empty window (0 s) holds only the latest recommendation.
  if (!Number.isFinite(upFloor)) upFloor = latest;
  if (!Number.isFinite(downCeiling)) downCeiling = latest;
  let recommendation = currentReplicas;
  if (recommendation < upFloor) recommendation = upFloor;
  if (recommendation > downCeiling) recommendation = downCeiling;
  return recommendation;
}

function changedWithin(events: readonly ScaleEvent[], now: number, periodSeconds: number, sign: 1 | -1): number {
  return events
    .filter((e) => e.at > now - periodSeconds * 1000 && Math.sign(e.change) === sign)
    .reduce((sum, e) => sum + Math.abs(e.change), 0);
}

/** The most replicas the scale-up policies allow now, given the additions in each policy's period. */
export function scaleUpLimit(
  currentReplicas: number,
  events: readonly ScaleEvent[],
  now: number,
  rules: ScalingRules,
): number {
  if (rules.selectPolicy === "Disabled") return currentReplicas;
  const limits = rules.policies.map((policy) => {
    const periodStart = currentReplicas - changedWithin(events, now, policy.periodSeconds, 1);
    return policy.type === "Pods" ? periodStart + policy.value : Math.ceil(periodStart * (1 + policy.value / 100));
  });
  if (limits.length === 0) return currentReplicas;
  return rules.selectPolicy === "Max" ? Math.max(...limits) : Math.min(...limits);
}

/** The fewest replicas the scale-down policies allow now, given the removals in each policy's period. */
export function scaleDownLimit(
  currentReplicas: number,
  events: readonly ScaleEvent[],
  now: number,
  rules: ScalingRules,
): number {
  if (rules.selectPolicy === "Disabled") return currentReplicas;
  const limits = rules.policies.map((policy) => {
    const periodStart = currentReplicas + changedWithin(events, now, policy.periodSeconds, -1);
    return policy.type === "Pods" ? periodStart - policy.value : Math.trunc(periodStart * (1 - policy.value / 100));
  });
  if (limits.length === 0) return currentReplicas;
  // "Max" selects the policy that allows the biggest change: the lowest floor.
  return rules.selectPolicy === "Max" ? Math.min(...limits) : Math.max(...limits);
}

/** What the HPA needs to decide once. */
export interface HpaInput {
  readonly now: number;
  readonly currentReplicas: number;
  readonly metricTotal: number;
  readonly targetPerReplica: number;
  /** The HPA's bounds: KEDA sets min to max(1, minReplicaCount) and max to maxReplicaCount. */
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly behavior: HpaBehavior;
  /** Earlier recommendations (the new one is appended by the caller from the result). */
  readonly history: readonly Recommendation[];
  readonly events: readonly ScaleEvent[];
}

export interface HpaDecision {
  /** The raw recommendation, to append to the history. */
  readonly recommendation: number;
  readonly desiredReplicas: number;
}

/** One HPA sync: recommendation, stabilization, rate limits, then the min/max bounds. */
export function hpaDecide(input: HpaInput): HpaDecision {
  const { now, currentReplicas, behavior } = input;
  const recommendation = Math.max(
    input.minReplicas,
    Math.min(input.maxReplicas, hpaRecommendation(currentReplicas, input.metricTotal, input.targetPerReplica)),
  );
  if (currentReplicas === 0) return { recommendation, desiredReplicas: 0 };
  const stabilized = stabilize(
    currentReplicas,
    [...input.history, { at: now, replicas: recommendation }],
    now,
    behavior,
  );
  let desired = stabilized;
  if (desired > currentReplicas)
    desired = Math.min(desired, scaleUpLimit(currentReplicas, input.events, now, behavior.scaleUp));
  if (desired < currentReplicas)
    desired = Math.max(desired, scaleDownLimit(currentReplicas, input.events, now, behavior.scaleDown));
  return { recommendation, desiredReplicas: Math.max(input.minReplicas, Math.min(input.maxReplicas, desired)) };
}

/** What KEDA's scale loop decides about the 0 <-> 1 edge (the HPA never goes below 1). */
export type KedaAction =
  | { readonly kind: "none" }
  | { readonly kind: "activate"; readonly replicas: number }
  | { readonly kind: "deactivate"; readonly replicas: number };

export interface KedaInput {
  readonly now: number;
  readonly currentReplicas: number;
  readonly active: boolean;
  /** When the trigger was last active (ms), or undefined if never. */
  readonly lastActiveAt: number | undefined;
  readonly minReplicaCount: number;
  readonly cooldownPeriodSeconds: number;
}

/**
 * KEDA's executor: an active trigger with no replicas scales to max(1, minReplicaCount); an inactive
 * one scales to minReplicaCount (when that is 0) once `cooldownPeriod` has passed since it was last
 * active. Everything between is the HPA's.
 */
export function kedaDecide(input: KedaInput): KedaAction {
  if (input.active && input.currentReplicas === 0)
    return { kind: "activate", replicas: Math.max(1, input.minReplicaCount) };
  if (!input.active && input.minReplicaCount === 0 && input.currentReplicas > 0) {
    const since = input.lastActiveAt ?? Number.NEGATIVE_INFINITY;
    if (input.now - since >= input.cooldownPeriodSeconds * 1000) return { kind: "deactivate", replicas: 0 };
  }
  return { kind: "none" };
}
