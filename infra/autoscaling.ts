/**
 * Autoscaling on queue depth, per stack: KEDA's `aws-sqs-queue` scaler drives the consumer Deployment
 * through an HPA. The scaler has its own IAM role, allowed only `sqs:GetQueueAttributes` on this stack's
 * queue and trusted only by KEDA's operator service account on this cluster; the TriggerAuthentication
 * names that role (`podIdentity: {provider: aws, roleArn}`), so the consumer's own role keeps trusting
 * the consumer's service account alone (`identityOwner: workload` would make it trust the operator too).
 *
 * The ScaledObject counts in-flight messages (`scaleOnInFlight`), so pods busy with received messages
 * are not scaled away; its scale-down stabilization window outlasts the pods' termination grace period;
 * a failing metric holds the `fallback` replica count. The objects are built by pure functions below, so
 * tests validate them against KEDA's CRD schemas (@kubernetes-models/keda) without Pulumi.
 *
 * Sources: kedacore/keda-docs content/docs/2.20/scalers/aws-sqs.md, reference/scaledobject-spec.md,
 * authentication-providers/aws.md; kedacore/keda pkg/scalers/aws_sqs_queue_scaler.go.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { TargetCluster } from "./cluster";
import type { EnabledAutoscaling } from "./config";
import type { PolicyDocument } from "./iam-documents";
import { trustedRole } from "./identity";
import { kedaLocation, kedaOperatorTrustPolicy, type KedaInstallation } from "./keda";
import type { Labels } from "./labels";
import { NAME_LIMITS, scopedName, type NameScope } from "./names";

/** The only action KEDA's aws-sqs-queue scaler calls. */
export const SCALER_ACTIONS = ["sqs:GetQueueAttributes"] as const;

/** Object names inside the stack's namespace. */
export const AUTOSCALING_NAMES = {
  scaledObject: "sqs-consumer",
  triggerAuthentication: "sqs-consumer-scaler",
} as const;

/** How many consecutive failed readings before KEDA holds the fallback replica count. */
export const FALLBACK_FAILURE_THRESHOLD = 3;

/** What the scaler may do: read this queue's attributes, nothing else. */
export function scalerAccessPolicy(queueArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "ReadQueueDepth", Effect: "Allow", Action: [...SCALER_ACTIONS], Resource: queueArn }],
  };
}

/** A TriggerAuthentication's spec: KEDA's operator assumes `roleArn` (the identity owner stays KEDA). */
export function triggerAuthenticationSpec(roleArn: string): { podIdentity: { provider: "aws"; roleArn: string } } {
  return { podIdentity: { provider: "aws", roleArn } };
}

/** What a ScaledObject's spec is built from. */
export interface ScaledObjectInput {
  readonly deploymentName: string;
  readonly queueUrl: string;
  readonly region: string;
  readonly triggerAuthenticationName: string;
  readonly autoscaling: EnabledAutoscaling;
}

/**
 * The ScaledObject's spec: the Deployment as target, min/max and KEDA's timings from config, a fallback,
 * the HPA's scale-down stabilization window, and one aws-sqs-queue trigger whose metadata (all strings)
 * asks for ceil((visible + in flight) / messagesPerPod) replicas, active above activationMessages, read
 * once per pollingInterval and served to the HPA from KEDA's cache (`useCachedMetrics`).
 */
export function scaledObjectSpec(input: ScaledObjectInput): Record<string, unknown> {
  const a = input.autoscaling;
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: input.deploymentName },
    pollingInterval: a.pollingIntervalSeconds,
    cooldownPeriod: a.cooldownPeriodSeconds,
    minReplicaCount: a.minReplicas,
    maxReplicaCount: a.maxReplicas,
    fallback: { failureThreshold: FALLBACK_FAILURE_THRESHOLD, replicas: a.fallbackReplicas },
    advanced: {
      horizontalPodAutoscalerConfig: {
        behavior: { scaleDown: { stabilizationWindowSeconds: a.scaleDownStabilizationSeconds } },
      },
    },
    triggers: [
      {
        type: "aws-sqs-queue",
        authenticationRef: { name: input.triggerAuthenticationName },
        useCachedMetrics: true,
        metadata: {
          queueURL: input.queueUrl,
          awsRegion: input.region,
          queueLength: String(a.messagesPerPod),
          activationQueueLength: String(a.activationMessages),
          scaleOnInFlight: "true",
          scaleOnDelayed: "false",
        },
      },
    ],
  };
}

export interface ConsumerAutoscalingArgs {
  /** The validated autoscaling settings. */
  readonly autoscaling: EnabledAutoscaling;
  /** The cluster: its OIDC provider is what the scaler role trusts (for KEDA's operator), its provider deploys. */
  readonly cluster: TargetCluster;
  /**
   * KEDA as this stack installed it (a created cluster; the objects wait for its chart and CRDs), or
   * undefined: the cluster's KEDA is found by `kedaLocation`.
   */
  readonly keda: KedaInstallation | undefined;
  /** Project and stack: the scaler role is `<project>-<stack>-scaler` (up to 64 characters). */
  readonly scope: NameScope;
  /** The stack's namespace. */
  readonly namespace: pulumi.Input<string>;
  /** The consumer Deployment to scale. */
  readonly deploymentName: pulumi.Input<string>;
  /** ARN of the queue whose depth drives scaling. */
  readonly queueArn: pulumi.Input<string>;
  /** URL of that queue. */
  readonly queueUrl: pulumi.Input<string>;
  /** AWS region of the queue. */
  readonly region: string;
  /** Recommended labels of this stack's objects. */
  readonly labels: Labels;
  /** Tags for the role. */
  readonly tags: Readonly<Record<string, string>>;
  /** The permissions boundary of the roles created here (`rolePermissionsBoundary`); undefined: none. */
  readonly permissionsBoundary: string | undefined;
}

/** The scaler's role and access, the TriggerAuthentication and the ScaledObject of one stack. */
export class ConsumerAutoscaling extends pulumi.ComponentResource {
  readonly scalerRoleArn: pulumi.Output<string>;
  readonly scaledObjectName: pulumi.Output<string>;

  constructor(name: string, args: ConsumerAutoscalingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:autoscaling:ConsumerAutoscaling", name, {}, opts);
    const { cluster } = args;
    const kedaReady = args.keda === undefined ? [] : [args.keda.chart];
    const k8sOpts = { parent: this, provider: cluster.provider, dependsOn: kedaReady };

    const trust = pulumi
      .all([cluster.oidcProviderArn, cluster.oidcProviderUrl, kedaLocation(cluster, args.keda)])
      .apply(([oidcProviderArn, oidcIssuerUrl, keda]) =>
        kedaOperatorTrustPolicy({ oidcProviderArn, oidcIssuerUrl, keda }),
      );
    const role = trustedRole(
      `${name}-scaler-role`,
      {
        roleName: scopedName(args.scope, "scaler", NAME_LIMITS.iamRole),
        description:
          "Assumed by KEDA's operator only (web identity); reads one queue's attributes to scale the consumer.",
        trust,
        tags: args.tags,
        permissionsBoundary: args.permissionsBoundary,
      },
      this,
    );
    const access = new aws.iam.RolePolicy(
      `${name}-scaler-access`,
      {
        role: role.name,
        name: "read-queue-depth",
        policy: pulumi.jsonStringify(pulumi.output(args.queueArn).apply(scalerAccessPolicy)),
      },
      { parent: this },
    );

    const triggerAuthentication = new k8s.apiextensions.CustomResource(
      `${name}-trigger-authentication`,
      {
        apiVersion: "keda.sh/v1alpha1",
        kind: "TriggerAuthentication",
        metadata: { name: AUTOSCALING_NAMES.triggerAuthentication, namespace: args.namespace, labels: args.labels },
        spec: role.arn.apply(triggerAuthenticationSpec),
      },
      // The role can read the queue before KEDA first tries.
      { ...k8sOpts, dependsOn: [...kedaReady, access] },
    );

    const scaledObject = new k8s.apiextensions.CustomResource(
      `${name}-scaled-object`,
      {
        apiVersion: "keda.sh/v1alpha1",
        kind: "ScaledObject",
        metadata: { name: AUTOSCALING_NAMES.scaledObject, namespace: args.namespace, labels: args.labels },
        spec: pulumi
          .all([args.deploymentName, args.queueUrl, triggerAuthentication.metadata.name])
          .apply(([deploymentName, queueUrl, triggerAuthenticationName]) =>
            scaledObjectSpec({
              deploymentName,
              queueUrl,
              region: args.region,
              triggerAuthenticationName,
              autoscaling: args.autoscaling,
            }),
          ),
      },
      k8sOpts,
    );

    this.scalerRoleArn = role.arn;
    this.scaledObjectName = scaledObject.metadata.name;
    this.registerOutputs({ scalerRoleArn: this.scalerRoleArn, scaledObjectName: this.scaledObjectName });
  }
}
