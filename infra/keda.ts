/**
 * KEDA, once per cluster: the namespace `keda` enforcing the restricted Pod Security Standard, an IAM role
 * for the operator's service account that grants nothing (it only gives the operator a projected web
 * identity token, with which KEDA assumes each stack's own scaler role), and the `keda` Helm chart
 * rendered by `helm.v4.Chart`, so each rendered object is a Pulumi resource the policy pack sees.
 *
 * A stack that creates its cluster installs it (`clusterKeda`), whether or not it autoscales itself; a
 * borrowing stack reads where it runs from the platform's developer directory (infra/developer-access.ts);
 * an adopting stack assumes a platform team installed it the same way (docs/AUTOSCALING.md). `kedaLocation`
 * says which.
 *
 * Sources: kedacore/charts keda/values.yaml (`podIdentity.aws.irsa.*`, `crds.install`) and
 * keda/templates/manager/deployment.yaml; kedacore/keda pkg/scalers/aws/aws_config_cache.go (a trigger's
 * `roleArn` is assumed by web identity with the operator's AWS_WEB_IDENTITY_TOKEN_FILE, which the EKS pod
 * identity webhook mounts only for a service account annotated with a role).
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { TargetCluster } from "./cluster";
import { STS_AUDIENCE, webIdentityTrustPolicy, type PolicyDocument, type WebIdentityTrust } from "./iam-documents";
import { trustedRole } from "./identity";
import type { Labels } from "./labels";
import { NAME_LIMITS, scopedName, type NameScope } from "./names";
import { POD_SECURITY_LABELS } from "./namespace";

/**
 * The chart this program installs, pinned: kedacore/charts `keda` 2.20.2. KEDA publishes it only in an HTTP
 * chart repository (kedacore/charts#20 asks for OCI), where a version could be published again and every
 * preview would download it; the program renders it instead from a mirror in the account's ECR
 * (`kedaChartMirror`), which `npm run keda-chart:mirror` (ci/keda-chart.ts) fills once, after checking the
 * archive's SHA-256 below. The digest is the one recorded for keda-2.20.2.tgz by two independent public pins
 * of https://kedacore.github.io/charts/keda-2.20.2.tgz (not fetched from here); the mirror step checks it
 * against the chart repository's own `index.yaml` too.
 */
export const KEDA_CHART = {
  chart: "keda",
  version: "2.20.2",
  upstream: "https://kedacore.github.io/charts",
  archiveSha256: "db60b1fa60f0565fefa4ce2f87e855b6a8854363ee82962fbe28a12a70d64c4c",
} as const;

/**
 * The ECR repository that holds the mirrored chart in the stack's account and region: `<project>/charts/keda`
 * (`helm push <archive> oci://<registry>/<project>/charts` stores the chart there). Its tags are immutable,
 * so the version cannot be pushed again with other content.
 */
export function kedaChartMirror(project: string): string {
  return `${project}/charts/${KEDA_CHART.chart}`;
}

/**
 * The chart's OCI reference in the account's mirror, and the registry credentials to pull it, after checking
 * the mirror at preview: the repository exists, its tags are immutable, and it holds the pinned version
 * (a RunError naming the mirror command otherwise).
 */
function mirroredChart(
  project: string,
  region: string,
  opts: pulumi.InvokeOptions,
): { chart: pulumi.Output<string>; username: pulumi.Output<string>; password: pulumi.Output<string> } {
  const repositoryName = kedaChartMirror(project);
  const fix = `run npm run keda-chart:mirror -- --region ${region} (docs/DEPLOY.md, "Runtime pins")`;
  const mirror = pulumi.output(
    (async () => {
      let repository: aws.ecr.GetRepositoryResult;
      try {
        repository = await aws.ecr.getRepository({ name: repositoryName }, opts);
      } catch {
        throw new pulumi.RunError(`the KEDA chart's mirror, ECR repository ${repositoryName}, does not exist: ${fix}`);
      }
      if (repository.imageTagMutability !== "IMMUTABLE") {
        throw new pulumi.RunError(
          `ECR repository ${repositoryName} has ${repository.imageTagMutability} tags, so chart ${KEDA_CHART.version} could change content; recreate it with immutable tags: ${fix}`,
        );
      }
      try {
        await aws.ecr.getImage({ repositoryName, imageTag: KEDA_CHART.version }, opts);
      } catch {
        throw new pulumi.RunError(`ECR repository ${repositoryName} holds no chart ${KEDA_CHART.version}: ${fix}`);
      }
      return { chart: `oci://${repository.repositoryUrl}`, registryId: repository.registryId };
    })(),
  );
  const token = aws.ecr.getAuthorizationTokenOutput({ registryId: mirror.registryId }, opts);
  return { chart: mirror.chart, username: token.userName, password: pulumi.secret(token.password) };
}

/** Where KEDA runs and who its operator is, as the scaler roles' trust policies name it. */
export interface KedaLocation {
  /** KEDA's namespace ("keda"). */
  readonly namespace: string;
  /** The operator's service account ("keda-operator"): the only subject a scaler role trusts. */
  readonly operatorServiceAccount: string;
}

/** The chart's defaults, which adopted clusters are assumed to use (docs/AUTOSCALING.md). */
export const DEFAULT_KEDA_LOCATION: KedaLocation = { namespace: "keda", operatorServiceAccount: "keda-operator" };

/** The stack output a stack that creates its cluster exports for borrowers: a `KedaLocation` plus the chart version. */
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
 * capabilities dropped, RuntimeDefault seccomp). Its RBAC is narrowed to what this program uses, so the
 * policy pack's rbac-least-privilege passes the rendered ClusterRoles: no wildcard API group and resource rules for custom
 * scale targets (`rbac.enabledCustomScaledRefKinds`; Deployments are covered out of the box), and Secrets
 * read only in KEDA's namespace (`permissions.*.restrict.secret`; triggers authenticate by role, never by
 * Secret). Source: kedacore/charts keda/values.yaml and templates/manager/clusterrole.yaml at 2.20.2.
 */
export function kedaChartValues(operatorRoleArn: string): Record<string, unknown> {
  return {
    crds: { install: true },
    rbac: { enabledCustomScaledRefKinds: false },
    permissions: { operator: { restrict: { secret: true } }, metricServer: { restrict: { secret: true } } },
    podIdentity: {
      aws: { irsa: { enabled: true, roleArn: operatorRoleArn, audience: STS_AUDIENCE, stsRegionalEndpoints: "true" } },
    },
  };
}

export interface KedaInstallationArgs {
  /** The cluster to install into: its OIDC provider is what the operator's role trusts. */
  readonly cluster: TargetCluster;
  /** The stack's region, where the chart's mirror is. */
  readonly region: string;
  /** Project and stack: the operator's role is `<project>-<stack>-keda-operator` (up to 64 characters). */
  readonly scope: NameScope;
  /** Labels for the namespace (the Pod Security labels are added). */
  readonly labels: Labels;
  /** Tags for the role. */
  readonly tags: Readonly<Record<string, string>>;
  /** The permissions boundary of the roles created here (`rolePermissionsBoundary`); undefined: none. */
  readonly permissionsBoundary: string | undefined;
}

/**
 * KEDA for the cluster this stack creates, as the component `name`; undefined for a borrowed or adopted
 * cluster, whose KEDA is another stack's or a platform team's (`kedaLocation`).
 */
export function clusterKeda(name: string, args: KedaInstallationArgs): KedaInstallation | undefined {
  return args.cluster.mode === "create" ? new KedaInstallation(name, args) : undefined;
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
    const { cluster } = args;

    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: keda.namespace, labels: { ...args.labels, ...POD_SECURITY_LABELS } } },
      { parent: this, provider: cluster.provider },
    );

    const trust = pulumi
      .all([cluster.oidcProviderArn, cluster.oidcProviderUrl])
      .apply(([oidcProviderArn, oidcIssuerUrl]) => kedaOperatorTrustPolicy({ oidcProviderArn, oidcIssuerUrl, keda }));
    const operatorRole = trustedRole(
      `${name}-operator-role`,
      {
        roleName: scopedName(args.scope, "keda-operator", NAME_LIMITS.iamRole),
        description:
          "KEDA's operator (IRSA). Grants nothing: it only lets the operator assume each stack's scaler role by web identity.",
        trust,
        tags: args.tags,
        permissionsBoundary: args.permissionsBoundary,
      },
      this,
    );

    const mirror = mirroredChart(args.scope.project, args.region, { parent: this });
    this.chart = new k8s.helm.v4.Chart(
      `${name}-chart`,
      {
        chart: mirror.chart,
        version: KEDA_CHART.version,
        // pulumi-kubernetes logs in to an OCI registry with these (provider/pkg/helm/tool.go NewRegistryClient).
        repositoryOpts: { username: mirror.username, password: mirror.password },
        namespace: namespace.metadata.name,
        values: operatorRole.arn.apply(kedaChartValues),
      },
      { parent: this, provider: cluster.provider },
    );

    this.output = { ...keda, chartVersion: KEDA_CHART.version };
    this.registerOutputs({ keda: this.output, operatorRoleArn: operatorRole.arn });
  }
}

/**
 * Where the cluster's KEDA runs: installed by this stack (a created cluster), read from the platform's
 * developer directory (a borrowed one; infra/developer-access.ts), or the chart's defaults a platform team
 * installed (an adopted one; docs/AUTOSCALING.md).
 */
export function kedaLocation(
  cluster: TargetCluster,
  installed: KedaInstallation | undefined,
): pulumi.Output<KedaLocation> {
  switch (cluster.mode) {
    case "create":
      if (installed === undefined) throw new Error("a created cluster has KEDA installed: pass the installation");
      return pulumi.output(installed.output);
    case "borrow":
      if (cluster.developerGrant === undefined) throw new Error("a borrowed cluster has its developer grant");
      return cluster.developerGrant.apply((grant) => grant.directory.keda);
    case "adopt":
      return pulumi.output(DEFAULT_KEDA_LOCATION);
  }
}
