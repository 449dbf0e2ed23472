/**
 * The consumer's workload: the queue URL in a Secret, the Deployment and its PodDisruptionBudget.
 *
 * The container's environment is rendered by the consumer's own settings schema (`renderTunablesEnv`, through
 * consumer/src/contract), so
 * the consumer reads back exactly what the stack configured; Node's heap is sized from the memory limit. Pods meet the Pod Security Standard
 * "restricted" (non-root 65532, no privilege escalation, no capabilities, RuntimeDefault seccomp) and run
 * with a read-only root filesystem. Kubernetes waits `terminationGracePeriodSeconds(tunables)` after SIGTERM,
 * longer than the consumer's shutdown budget, so it always exits on its own.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  CONNECTION,
  PROBE_PATHS,
  nodeHeapForMemoryLimit,
  nodeHeapOptions,
  renderTracingEnv,
  renderTunablesEnv,
  terminationGracePeriodSeconds,
  type Tunables,
} from "../consumer/src/contract";
import type { TelemetryConfig, WorkloadConfig } from "./config";
import { INSTANCE_LABEL, type Labels } from "./labels";

/** Object names inside the stack's namespace (the namespace itself is scoped by stack). */
export const WORKLOAD_NAMES = {
  deployment: "sqs-consumer",
  container: "consumer",
  queueSecret: "sqs-consumer-queue",
  podDisruptionBudget: "sqs-consumer",
  healthPort: "health",
} as const;

/**
 * Pod template annotation carrying the queue's MaximumMessageSize, bytes (stack key `maxMessageSizeBytes`).
 * The consumer reads the attribute once, at start-up, and charges its receives by it
 * (consumer/src/memory.ts), so a change of the key must start new pods: with the annotation in the
 * template, Kubernetes rolls the Deployment. The Deployment is updated after the queue (it waits for the
 * Secret, which waits for the queue's URL), so the new pods read the new maximum.
 */
export const QUEUE_MAXIMUM_MESSAGE_SIZE_ANNOTATION = "sqs-eks-consumer/queue-maximum-message-size";

/** The user and group of the distroless image's "nonroot" account. */
export const CONSUMER_UID = 65532;

export interface ConsumerEnvArgs {
  readonly tunables: Tunables;
  readonly region: string;
  readonly memoryLimitMiB: number;
  /** Extra variables that turn features on, e.g. tracing's OTEL_* (consumer/src/contract `renderTracingEnv`). */
  readonly featureEnv?: Readonly<Record<string, string>>;
}

/**
 * The container's environment: the tunables as the consumer's schema renders them, the region, the queue URL
 * from the Secret, and a heap size that fits the container's memory limit.
 */
export function consumerEnv(args: ConsumerEnvArgs): k8s.types.input.core.v1.EnvVar[] {
  return [
    ...Object.entries(renderTunablesEnv(args.tunables)).map(([name, value]) => ({ name, value })),
    { name: CONNECTION.region.env, value: args.region },
    {
      name: CONNECTION.queueUrl.env,
      valueFrom: { secretKeyRef: { name: WORKLOAD_NAMES.queueSecret, key: CONNECTION.queueUrl.env } },
    },
    // Old space and young generation both sized from the limit: see consumer/src/contract/node-heap.ts for why both.
    { name: "NODE_OPTIONS", value: nodeHeapOptions(nodeHeapForMemoryLimit(args.memoryLimitMiB)) },
    ...Object.entries(args.featureEnv ?? {}).map(([name, value]) => ({ name, value })),
  ];
}

export interface ConsumerWorkloadArgs {
  /** Namespace to deploy into (restricted Pod Security Standard). */
  readonly namespace: pulumi.Input<string>;
  /** Service account the pods run as (infra/identity.ts: IRSA's annotation, or a Pod Identity association). */
  readonly serviceAccountName: pulumi.Input<string>;
  /** Annotations of the pod template (the identity mode, so a change of mode rolls the pods); default none. */
  readonly podAnnotations?: Readonly<Record<string, string>>;
  /** The image by digest (<repository>@sha256:<digest>). */
  readonly image: pulumi.Input<string>;
  /** URL of the queue to consume; stored in a Secret. */
  readonly queueUrl: pulumi.Input<string>;
  /** The queue's MaximumMessageSize, bytes: in the pod template (QUEUE_MAXIMUM_MESSAGE_SIZE_ANNOTATION). */
  readonly queueMaximumMessageSize: number;
  /** AWS region, passed as AWS_REGION. */
  readonly region: string;
  /** The consumer's validated tunables. */
  readonly tunables: Tunables;
  /** Replicas and resources. */
  readonly workload: WorkloadConfig;
  /** True when KEDA's HPA owns the replica count (infra/autoscaling.ts): the Deployment then sets none. */
  readonly autoscaled: boolean;
  /** The image's CPU architecture: the pods ask for nodes of it (`kubernetes.io/arch`), so a node autoscaler launches those. */
  readonly architecture: "amd64" | "arm64";
  /** Recommended labels of this stack's objects. */
  readonly labels: Labels;
  /** The subset of labels that selects this stack's pods. */
  readonly selectorLabels: Labels;
  /** Kubernetes provider of the target cluster. */
  readonly provider: k8s.Provider;
  /**
   * Where the consumer exports traces: with an otlpEndpoint, the container gets OTEL_* for it, the spans
   * named for the stack's instance (the selector's `app.kubernetes.io/instance`); without one, none.
   */
  readonly telemetry: Pick<TelemetryConfig, "otlpEndpoint" | "otlpProtocol">;
}

/** The Secret holding the queue URL, the consumer Deployment and its PodDisruptionBudget. */
export class ConsumerWorkload extends pulumi.ComponentResource {
  readonly deploymentName: pulumi.Output<string>;

  constructor(name: string, args: ConsumerWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:workload:ConsumerWorkload", name, {}, opts);
    const childOpts = { parent: this, provider: args.provider };

    const queueSecret = new k8s.core.v1.Secret(
      `${name}-queue-url`,
      {
        metadata: { name: WORKLOAD_NAMES.queueSecret, namespace: args.namespace, labels: args.labels },
        type: "Opaque",
        stringData: { [CONNECTION.queueUrl.env]: pulumi.secret(args.queueUrl) },
      },
      childOpts,
    );

    const { tunables, workload, telemetry } = args;
    const featureEnv =
      telemetry.otlpEndpoint === undefined
        ? {}
        : renderTracingEnv(telemetry.otlpEndpoint, telemetry.otlpProtocol, args.selectorLabels[INSTANCE_LABEL] ?? "");
    const deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { name: WORKLOAD_NAMES.deployment, namespace: args.namespace, labels: args.labels },
        spec: {
          // With server-side apply, a replica count here would be reapplied over the HPA's on every update.
          ...(args.autoscaled ? {} : { replicas: workload.replicas }),
          revisionHistoryLimit: 5,
          selector: { matchLabels: args.selectorLabels },
          // Start the new pod before stopping an old one: consumption never pauses during a rollout.
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: {
              labels: args.labels,
              annotations: {
                ...args.podAnnotations,
                [QUEUE_MAXIMUM_MESSAGE_SIZE_ANNOTATION]: String(args.queueMaximumMessageSize),
              },
            },
            spec: {
              serviceAccountName: args.serviceAccountName,
              // Pods land only on nodes that run the image; under EKS Auto Mode this picks the NodePool.
              nodeSelector: { "kubernetes.io/arch": args.architecture, "kubernetes.io/os": "linux" },
              // Spread across zones, so a zone's loss or a node's consolidation takes only part of the consumers.
              // ScheduleAnyway: a skew never leaves a pod Pending while the queue grows (a zone may lack capacity).
              topologySpreadConstraints: [
                {
                  maxSkew: 1,
                  topologyKey: "topology.kubernetes.io/zone",
                  whenUnsatisfiable: "ScheduleAnyway",
                  labelSelector: { matchLabels: args.selectorLabels },
                },
                {
                  maxSkew: 1,
                  topologyKey: "kubernetes.io/hostname",
                  whenUnsatisfiable: "ScheduleAnyway",
                  labelSelector: { matchLabels: args.selectorLabels },
                },
              ],
              terminationGracePeriodSeconds: terminationGracePeriodSeconds(tunables),
              securityContext: {
                runAsNonRoot: true,
                runAsUser: CONSUMER_UID,
                runAsGroup: CONSUMER_UID,
                seccompProfile: { type: "RuntimeDefault" },
              },
              containers: [
                {
                  name: WORKLOAD_NAMES.container,
                  image: args.image,
                  env: consumerEnv({
                    tunables,
                    region: args.region,
                    memoryLimitMiB: workload.memoryLimitMiB,
                    featureEnv,
                  }),
                  ports: [{ name: WORKLOAD_NAMES.healthPort, containerPort: tunables.healthPort, protocol: "TCP" }],
                  livenessProbe: {
                    httpGet: { path: PROBE_PATHS.liveness, port: WORKLOAD_NAMES.healthPort },
                    periodSeconds: 10,
                    timeoutSeconds: 2,
                    failureThreshold: 3,
                  },
                  readinessProbe: {
                    httpGet: { path: PROBE_PATHS.readiness, port: WORKLOAD_NAMES.healthPort },
                    periodSeconds: 5,
                    timeoutSeconds: 2,
                    failureThreshold: 3,
                  },
                  resources: {
                    requests: { cpu: `${workload.cpuRequestMillicores}m`, memory: `${workload.memoryRequestMiB}Mi` },
                    limits: { cpu: `${workload.cpuLimitMillicores}m`, memory: `${workload.memoryLimitMiB}Mi` },
                  },
                  securityContext: {
                    runAsNonRoot: true,
                    runAsUser: CONSUMER_UID,
                    runAsGroup: CONSUMER_UID,
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { drop: ["ALL"] },
                    seccompProfile: { type: "RuntimeDefault" },
                  },
                },
              ],
            },
          },
        },
      },
      { ...childOpts, dependsOn: [queueSecret] },
    );

    // Voluntary disruptions (node drains, upgrades, EKS Auto Mode's consolidation and node expiry) take at most
    // one pod at a time. maxUnavailable, not minAvailable: a single pod can always be evicted (it stops within
    // its grace period, its messages return to the queue), so the PDB never blocks a node's removal for good.
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      {
        metadata: { name: WORKLOAD_NAMES.podDisruptionBudget, namespace: args.namespace, labels: args.labels },
        spec: { maxUnavailable: 1, selector: { matchLabels: args.selectorLabels } },
      },
      childOpts,
    );

    this.deploymentName = deployment.metadata.name;
    this.registerOutputs({ deploymentName: this.deploymentName });
  }
}
