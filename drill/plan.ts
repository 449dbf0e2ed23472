// The drill's sizes and timings: the full run (docs/AUTOSCALING.md's scenario) and the quick run (CI).
import { DEFAULT_TUNABLES, terminationGracePeriodSeconds } from "../consumer/src/settings";
import { CONFIG_KEYS } from "../infra/config/keys";
import { DEFAULT_BEHAVIOR, type HpaBehavior, type SqsTrigger } from "./hpa";
import { podsPerNode, type NodeModel } from "./nodes";

export interface DrillPlan {
  readonly mode: "full" | "quick";
  /** The burst, sent as fast as the emulator takes it into an idle queue with no pods. */
  readonly messages: number;
  readonly handlerMs: number;
  readonly trigger: SqsTrigger;
  /** ScaledObject minReplicaCount / maxReplicaCount. */
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** ScaledObject pollingInterval: how often KEDA reads the queue. */
  readonly pollingIntervalSeconds: number;
  /** ScaledObject cooldownPeriod: how long after the last active reading KEDA scales to 0. */
  readonly cooldownPeriodSeconds: number;
  /** The HPA controller's sync period (kube-controller-manager --horizontal-pod-autoscaler-sync-period, 15 s by default). */
  readonly hpaSyncSeconds: number;
  readonly behavior: HpaBehavior;
  /** The consumer's settings that differ from its defaults (environment variables). */
  readonly podSettings: Readonly<Record<string, string>>;
  readonly shutdownBudgetSeconds: number;
  readonly gracePeriodSeconds: number;
  /** The fixed deployment the autoscaled one is compared with. */
  readonly fixedReplicas: number;
  /** The nodes of the run where every pod waits for a node launched for it (scale to zero nodes when idle). */
  readonly nodes: NodeModel;
}

/**
 * Nodes for the consumer's default requests (cpuRequestMillicores, memoryRequestMiB). The full run: m6i.large,
 * the smallest size of the C, M and R families EKS Auto Mode's general-purpose NodePool launches, ready 60 s
 * after launch (a model figure: AWS publishes none). The quick run: t3.micro (2 pods each), so that its 3
 * pods need two nodes, ready after 3 s.
 */
function nodeModel(quick: boolean): NodeModel {
  const instanceType = quick ? "t3.micro" : "m6i.large";
  return {
    instanceType,
    podsPerNode: podsPerNode(
      instanceType,
      CONFIG_KEYS.cpuRequestMillicores.default,
      CONFIG_KEYS.memoryRequestMiB.default,
    ),
    provisionSeconds: quick ? 3 : 60,
  };
}

/** messagesPerPod's default: one handler concurrency's worth of messages per pod. */
const MESSAGES_PER_POD = DEFAULT_TUNABLES.handlerConcurrency;

export function drillPlan(quick: boolean): DrillPlan {
  const shutdownBudgetSeconds = quick ? 8 : DEFAULT_TUNABLES.shutdownBudgetSeconds;
  const stabilizationWindowSeconds = shutdownBudgetSeconds + 5;
  // The full run keeps Kubernetes' scale-up timing (15 s sync, +4 pods or +100% per 15 s) and KEDA's
  // usual reading rate; scale-in is compressed (cooldown and stabilization well under the defaults'
  // 300 s) so the run ends in minutes. The quick run compresses everything.
  const hpaSyncSeconds = quick ? 2 : 15;
  const behavior: HpaBehavior = {
    scaleUp: {
      ...DEFAULT_BEHAVIOR.scaleUp,
      policies: DEFAULT_BEHAVIOR.scaleUp.policies.map((p) => ({ ...p, periodSeconds: hpaSyncSeconds })),
    },
    scaleDown: {
      stabilizationWindowSeconds,
      selectPolicy: "Max",
      policies: [{ type: "Percent", value: 100, periodSeconds: hpaSyncSeconds }],
    },
  };
  return {
    mode: quick ? "quick" : "full",
    messages: quick ? 3_000 : 50_000,
    handlerMs: 20,
    trigger: { queueLength: MESSAGES_PER_POD, activationQueueLength: 0, scaleOnInFlight: true, scaleOnDelayed: false },
    minReplicas: 0,
    maxReplicas: quick ? 3 : 8,
    pollingIntervalSeconds: quick ? 1 : 5,
    cooldownPeriodSeconds: stabilizationWindowSeconds,
    hpaSyncSeconds,
    behavior,
    podSettings: {
      SHUTDOWN_BUDGET_SECONDS: String(shutdownBudgetSeconds),
      ...(quick ? { WAIT_TIME_SECONDS: "5" } : {}),
    },
    shutdownBudgetSeconds,
    gracePeriodSeconds: terminationGracePeriodSeconds({ shutdownBudgetSeconds }),
    fixedReplicas: 2,
    nodes: nodeModel(quick),
  };
}
