// The drill's controller algorithm, rule by rule: pure functions, times passed in, nothing timed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { textChart } from "./chart";
import {
  DEFAULT_BEHAVIOR,
  hpaDecide,
  hpaRecommendation,
  isActive,
  kedaDecide,
  queueMetric,
  scaleDownLimit,
  scaleUpLimit,
  stabilize,
  type HpaBehavior,
  type HpaInput,
} from "./hpa";
import { drillPlan } from "./plan";

const S = 1000;

test("the metric counts in-flight messages only with scaleOnInFlight, delayed ones only with scaleOnDelayed", () => {
  const attributes = { visible: 70, notVisible: 30, delayed: 5 };
  assert.equal(queueMetric(attributes, { scaleOnInFlight: true, scaleOnDelayed: false }), 100);
  assert.equal(queueMetric(attributes, { scaleOnInFlight: false, scaleOnDelayed: false }), 70);
  assert.equal(queueMetric(attributes, { scaleOnInFlight: true, scaleOnDelayed: true }), 105);
});

test("activation: active only above activationQueueLength", () => {
  assert.equal(isActive(0, { activationQueueLength: 0 }), false);
  assert.equal(isActive(1, { activationQueueLength: 0 }), true);
  assert.equal(isActive(10, { activationQueueLength: 10 }), false);
  assert.equal(isActive(11, { activationQueueLength: 10 }), true);
});

test("the recommendation is ceil(total / target), unchanged within the 10% tolerance, and 0 with no replicas", () => {
  assert.equal(hpaRecommendation(1, 1_020, 100), 11);
  assert.equal(hpaRecommendation(4, 50_000, 100), 500);
  assert.equal(hpaRecommendation(4, 439, 100), 4, "ratio 1.0975 is within tolerance");
  assert.equal(hpaRecommendation(4, 441, 100), 5);
  assert.equal(hpaRecommendation(10, 905, 100), 10, "ratio 0.905 is within tolerance");
  assert.equal(hpaRecommendation(10, 899, 100), 9);
  assert.equal(hpaRecommendation(10, 850, 100), 9);
  assert.equal(hpaRecommendation(3, 0, 100), 0);
  assert.equal(hpaRecommendation(0, 5_000, 100), 0, "KEDA, not the HPA, scales from zero");
});

test("stabilization: up follows the lowest recommendation in the up window, down the highest in the down window", () => {
  const behavior: HpaBehavior = {
    ...DEFAULT_BEHAVIOR,
    scaleUp: { ...DEFAULT_BEHAVIOR.scaleUp, stabilizationWindowSeconds: 60 },
    scaleDown: { ...DEFAULT_BEHAVIOR.scaleDown, stabilizationWindowSeconds: 30 },
  };
  const now = 100 * S;
  // Down: a high recommendation 20 s ago holds pods; one 40 s ago is outside the 30 s window.
  assert.equal(
    stabilize(
      8,
      [
        { at: now - 40 * S, replicas: 10 },
        { at: now - 20 * S, replicas: 6 },
        { at: now, replicas: 2 },
      ],
      now,
      behavior,
    ),
    6,
  );
  assert.equal(
    stabilize(
      8,
      [
        { at: now - 40 * S, replicas: 10 },
        { at: now, replicas: 2 },
      ],
      now,
      behavior,
    ),
    2,
  );
  // Up: a low recommendation 50 s ago (inside the 60 s up window) holds the count down.
  assert.equal(
    stabilize(
      2,
      [
        { at: now - 50 * S, replicas: 3 },
        { at: now, replicas: 9 },
      ],
      now,
      behavior,
    ),
    3,
  );
  // Default up window is 0 s: the latest recommendation alone.
  assert.equal(
    stabilize(
      2,
      [
        { at: now - 1 * S, replicas: 3 },
        { at: now, replicas: 9 },
      ],
      now,
      DEFAULT_BEHAVIOR,
    ),
    9,
  );
});

test("scale-up policies: Max of +4 pods and +100% per period, counting additions within the period", () => {
  const now = 100 * S;
  assert.equal(scaleUpLimit(1, [], now, DEFAULT_BEHAVIOR.scaleUp), 5, "+4 beats +100% from 1");
  assert.equal(scaleUpLimit(10, [], now, DEFAULT_BEHAVIOR.scaleUp), 20, "+100% beats +4 from 10");
  // 4 added 10 s ago (within 15 s): the period started at 1 pod, so 5 is the limit.
  assert.equal(scaleUpLimit(5, [{ at: now - 10 * S, change: 4 }], now, DEFAULT_BEHAVIOR.scaleUp), 5);
  assert.equal(scaleUpLimit(5, [{ at: now - 20 * S, change: 4 }], now, DEFAULT_BEHAVIOR.scaleUp), 10);
  assert.equal(scaleUpLimit(5, [], now, { ...DEFAULT_BEHAVIOR.scaleUp, selectPolicy: "Min" }), 9);
  assert.equal(scaleUpLimit(5, [], now, { ...DEFAULT_BEHAVIOR.scaleUp, selectPolicy: "Disabled" }), 5);
});

test("scale-down policies: percent truncates, removals within the period count", () => {
  const rules = {
    stabilizationWindowSeconds: 0,
    selectPolicy: "Max" as const,
    policies: [
      { type: "Percent" as const, value: 50, periodSeconds: 60 },
      { type: "Pods" as const, value: 1, periodSeconds: 60 },
    ],
  };
  const now = 100 * S;
  assert.equal(scaleDownLimit(5, [], now, rules), 2, "Max picks the bigger change: trunc(5 x 0.5) = 2 beats 5 - 1");
  assert.equal(scaleDownLimit(5, [], now, { ...rules, selectPolicy: "Min" }), 4);
  assert.equal(
    scaleDownLimit(4, [{ at: now - 30 * S, change: -4 }], now, rules),
    4,
    "8 at the period's start: 50% is 4, reached",
  );
});

function input(overrides: Partial<HpaInput>): HpaInput {
  return {
    now: 100 * S,
    currentReplicas: 1,
    metricTotal: 0,
    targetPerReplica: 100,
    minReplicas: 1,
    maxReplicas: 8,
    behavior: DEFAULT_BEHAVIOR,
    history: [],
    events: [],
    ...overrides,
  };
}

test("one HPA sync: recommendation, stabilization, rate limit, then bounds", () => {
  assert.deepEqual(
    hpaDecide(input({ currentReplicas: 1, metricTotal: 50_000 })),
    { recommendation: 8, desiredReplicas: 5 },
    "max 8, but +4 per period",
  );
  assert.equal(
    hpaDecide(input({ currentReplicas: 5, metricTotal: 50_000, events: [{ at: 90 * S, change: 4 }] })).desiredReplicas,
    5,
    "the period's budget is spent",
  );
  assert.equal(
    hpaDecide(input({ currentReplicas: 5, metricTotal: 50_000, events: [{ at: 80 * S, change: 4 }] })).desiredReplicas,
    8,
  );
  // Quiet queue: the 300 s default window keeps 8 until the busy recommendation ages out.
  const busy = [{ at: 10 * S, replicas: 8 }];
  assert.equal(hpaDecide(input({ currentReplicas: 8, metricTotal: 0, history: busy })).desiredReplicas, 8);
  assert.equal(
    hpaDecide(input({ now: 311 * S, currentReplicas: 8, metricTotal: 0, history: busy })).desiredReplicas,
    1,
    "never below min (KEDA's max(1, minReplicaCount))",
  );
  assert.equal(hpaDecide(input({ currentReplicas: 0, metricTotal: 50_000 })).desiredReplicas, 0);
});

test("KEDA activates 0 -> max(1, min) and deactivates to 0 only after the cooldown, and only when min is 0", () => {
  const base = { now: 100 * S, cooldownPeriodSeconds: 30 };
  assert.deepEqual(
    kedaDecide({ ...base, currentReplicas: 0, active: true, lastActiveAt: 100 * S, minReplicaCount: 0 }),
    { kind: "activate", replicas: 1 },
  );
  assert.deepEqual(
    kedaDecide({ ...base, currentReplicas: 0, active: true, lastActiveAt: 100 * S, minReplicaCount: 2 }),
    { kind: "activate", replicas: 2 },
  );
  assert.deepEqual(
    kedaDecide({ ...base, currentReplicas: 3, active: false, lastActiveAt: 80 * S, minReplicaCount: 0 }),
    { kind: "none" },
    "20 s < cooldown 30 s",
  );
  assert.deepEqual(
    kedaDecide({ ...base, currentReplicas: 3, active: false, lastActiveAt: 70 * S, minReplicaCount: 0 }),
    { kind: "deactivate", replicas: 0 },
  );
  assert.deepEqual(
    kedaDecide({ ...base, currentReplicas: 3, active: false, lastActiveAt: 10 * S, minReplicaCount: 1 }),
    { kind: "none" },
    "the HPA's floor, not KEDA's",
  );
  assert.deepEqual(
    kedaDecide({ ...base, currentReplicas: 3, active: true, lastActiveAt: 100 * S, minReplicaCount: 0 }),
    { kind: "none" },
  );
});

test("the drill's plans keep the scale-down window longer than the pods' shutdown budget", () => {
  for (const plan of [drillPlan(true), drillPlan(false)]) {
    assert.ok(plan.behavior.scaleDown.stabilizationWindowSeconds > plan.shutdownBudgetSeconds, plan.mode);
    assert.ok(plan.gracePeriodSeconds > plan.shutdownBudgetSeconds, plan.mode);
  }
  assert.equal(drillPlan(false).messages, 50_000);
  assert.equal(drillPlan(false).handlerMs, 20);
});

test("the text chart fills bins the sampler missed with the count before them", () => {
  const chart = textChart(
    [
      { t: 0, replicas: 1, terminating: 0, depth: 0 },
      { t: 10, replicas: 2, terminating: 0, depth: 0 },
    ],
    10,
  ).split("\n");
  assert.equal(chart[0], "  2 |          █");
  assert.equal(chart[1], "  1 | ██████████");
});
