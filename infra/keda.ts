/**
 * KEDA, once per cluster: the namespace `keda` enforcing the restricted Pod Security Standard, an IAM role
 * for the operator's service account that grants nothing (it only gives the operator a projected web
 * identity token, with which KEDA assumes each stack's own scaler role), and the `keda` Helm chart
 * rendered by `helm.v4.Chart`, so each rendered object is a Pulumi resource the policy pack sees.
 *
 * Create-mode stacks install it; stack-mode stacks read what they need from the create stack's `keda`
 * output (`KEDA_OUTPUT`); existing-mode stacks assume a platform team installed it the same way
 * (docs/AUTOSCALING.md).
 *
 * Sources: kedacore/charts keda/values.yaml (`podIdentity.aws.irsa.*`, `crds.install`) and
 * keda/templates/manager/deployment.yaml; kedacore/keda pkg/scalers/aws/aws_config_cache.go (a trigger's
 * `roleArn` is assumed by web identity with the operator's AWS_WEB_IDENTITY_TOKEN_FILE, which the EKS pod
 * identity webhook mounts only for a service account annotated with a role).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { STS_AUDIENCE, webIdentityTrustPolicy, type PolicyDocument, type WebIdentityTrust } from "./iam-documents";
import type { ClusterConfig } from "./config";
import type { Labels } from "./labels";
import { POD_SECURITY_LABELS } from "./namespace";
import { trustedRole } from "./trusted-role";

/** The chart this program installs: kedacore/charts, pinned. */
export const KEDA_CHART = {
  chart: "keda",
  version: "2.20.2",
  repository: "https://kedacore.github.io/charts",
} as const;

/** Where KEDA runs and who its operator is, as the scaler roles' trust policies name it. */
export interface KedaLocation {
  /** KEDA's namespace ("keda"). */
  readonly namespace: string;
  /** The operator's service account ("keda-operator"): the only subject a scaler role trusts. */
  readonly operatorServiceAccount: string;
}

/** The chart's defaults, which existing-mode clusters are assumed to use (docs/AUTOSCALING.md). */
export const DEFAULT_KEDA_LOCATION: KedaLocation = { namespace: "keda", operatorServiceAccount: "keda-operator" };

/** The stack output a create-mode stack exports for its borrowers: a `KedaLocation` plus the chart version. */
export const KEDA_OUTPUT = "keda";

/** What the create stack exports under `KEDA_OUTPUT`. */
export interface KedaOutput extends KedaLocation {
  readonly chartVersion: string;
}

/** Who may assume a role through web identity: KEDA's operator, on one cluster. */
export interface KedaOperatorTrust extends Pick<WebIdentityTrust, "oidcProviderArn" | "oidcIssuerUrl"> {
  /** Where KEDA's operator runs: its namespace and service account are the token's subject. */
  readonly keda: KedaLocation;
}

/**
 * Trust policy for KEDA's operator (its own role, and every stack's scaler role): the IRSA trust of
 * `webIdentityTrustPolicy` for the operator's service account, `system:serviceaccount:<keda namespace>:<operator
 * service account>`, on this cluster's OIDC provider.
 */
export function kedaOperatorTrustPolicy(trust: KedaOperatorTrust): PolicyDocument {
  const { oidcProviderArn, oidcIssuerUrl, keda } = trust;
  return webIdentityTrustPolicy(
    { oidcProviderArn, oidcIssuerUrl, namespace: keda.namespace, serviceAccount: keda.operatorServiceAccount },
    "KedaOperatorOnly",
  );
}

/**
 * The chart's values: CRDs installed, the operator's service account annotated with its (permissionless)
 * role so the EKS webhook mounts a web identity token with the STS audience, regional STS endpoints.
 * The chart's pods are restricted-compatible by default (non-root, no privilege escalation, all
 * capabilities dropped, RuntimeDefault seccomp).
 */
export function kedaChartValues(operatorRoleArn: string): Record<string, unknown> {
  return {
    crds: { install: true },
    podIdentity: {
      aws: { irsa: { enabled: true, roleArn: operatorRoleArn, audience: STS_AUDIENCE, stsRegionalEndpoints: "true" } },
    },
  };
}

export interface KedaInstallationArgs {
  /** Physical name of the operator's IAM role (up to 64 characters), scoped by stack. */
  readonly operatorRoleName: string;
  /** ARN of the cluster's IAM OIDC provider. */
  readonly oidcProviderArn: pulumi.Input<string>;
  /** The cluster's OIDC issuer URL. */
  readonly oidcProviderUrl: pulumi.Input<string>;
  /** Labels for the namespace (the Pod Security labels are added). */
  readonly labels: Labels;
  /** Tags for the role. */
  readonly tags: Readonly<Record<string, string>>;
  /** Kubernetes provider of the cluster. */
  readonly provider: k8s.Provider;
}

/** KEDA installed into a cluster this stack created. */
export class KedaInstallation extends pulumi.ComponentResource {
  /** What the stack exports for borrowers under `KEDA_OUTPUT`. */
  readonly output: KedaOutput;
  /** The chart, to order ScaledObjects after its CRDs. */
  readonly chart: k8s.helm.v4.Chart;

  constructor(name: string, args: KedaInstallationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:keda:KedaInstallation", name, {}, opts);
    const keda = DEFAULT_KEDA_LOCATION;

    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: keda.namespace, labels: { ...args.labels, ...POD_SECURITY_LABELS } } },
      { parent: this, provider: args.provider },
    );

    const trust = pulumi
      .all([args.oidcProviderArn, args.oidcProviderUrl])
      .apply(([oidcProviderArn, oidcIssuerUrl]) => kedaOperatorTrustPolicy({ oidcProviderArn, oidcIssuerUrl, keda }));
    const operatorRole = trustedRole(
      `${name}-operator-role`,
      {
        roleName: args.operatorRoleName,
        description:
          "KEDA's operator (IRSA). Grants nothing: it only lets the operator assume each stack's scaler role by web identity.",
        trust,
        tags: args.tags,
      },
      this,
    );

    this.chart = new k8s.helm.v4.Chart(
      `${name}-chart`,
      {
        chart: KEDA_CHART.chart,
        version: KEDA_CHART.version,
        repositoryOpts: { repo: KEDA_CHART.repository },
        namespace: namespace.metadata.name,
        values: operatorRole.arn.apply(kedaChartValues),
      },
      { parent: this, provider: args.provider },
    );

    this.output = { ...keda, chartVersion: KEDA_CHART.version };
    this.registerOutputs({ keda: this.output, operatorRoleArn: operatorRole.arn });
  }
}

/**
 * Where the cluster's KEDA runs: installed by this stack (create), read from the create stack's
 * `KEDA_OUTPUT` (stack; the reference fails at preview when that stack exports none, i.e. predates
 * KEDA), or the chart's defaults a platform team installed (existing; docs/AUTOSCALING.md).
 */
export function kedaLocation(
  name: string,
  cluster: ClusterConfig,
  installed: KedaInstallation | undefined,
): pulumi.Output<KedaLocation> {
  switch (cluster.mode) {
    case "create":
      if (installed === undefined) throw new Error("create mode installs KEDA: pass the installation");
      return pulumi.output(installed.output);
    case "stack":
      return new pulumi.StackReference(`${name}-cluster-stack`, { name: cluster.clusterStack }).requireOutput(
        KEDA_OUTPUT,
      ) as pulumi.Output<KedaLocation>;
    case "existing":
      return pulumi.output(DEFAULT_KEDA_LOCATION);
  }
}
