// What the EKS pod identity webhook's mutating admission does to a pod, for IAM Roles for Service
// Accounts. A port of the behaviour of github.com/aws/amazon-eks-pod-identity-webhook
// (pkg/handler/handler.go and pkg/cache/cache.go at commit 3bf80a3, five commits after v0.6.17), web
// identity mode only: EKS Pod Identity (the container-credentials mode) is configured by a file on
// the control plane, not by service account annotations, and is not modelled. Pure: no I/O.
import type { IContainer } from "kubernetes-models/v1/Container" with { "resolution-mode": "import" };
import type { IPodTemplateSpec } from "kubernetes-models/v1/PodTemplateSpec" with { "resolution-mode": "import" };
import type { IServiceAccount } from "kubernetes-models/v1/ServiceAccount" with { "resolution-mode": "import" };
import type { IVolume } from "kubernetes-models/v1/Volume" with { "resolution-mode": "import" };

/** The webhook's default `--annotation-prefix`; EKS runs it with the default. */
const PREFIX = "eks.amazonaws.com";

/** Service account and pod annotations the webhook reads (pkg/annotations.go). */
export const ANNOTATIONS = {
  roleArn: `${PREFIX}/role-arn`,
  audience: `${PREFIX}/audience`,
  regionalSts: `${PREFIX}/sts-regional-endpoints`,
  tokenExpiration: `${PREFIX}/token-expiration`,
  skipContainers: `${PREFIX}/skip-containers`,
} as const;

/** The projected volume the webhook adds, and where every mutated container mounts it. */
export const TOKEN_VOLUME = {
  name: "aws-iam-token",
  mountPath: "/var/run/secrets/eks.amazonaws.com/serviceaccount",
  path: "token",
} as const;

/** The token lifetime the kube-apiserver accepts at least (pkg/constants.go MinTokenExpiration). */
const MIN_TOKEN_EXPIRATION_SECONDS = 600;

/** The webhook's command-line configuration, as EKS runs it. */
export interface WebhookConfig {
  /** `--aws-default-region`: set as AWS_DEFAULT_REGION and AWS_REGION in containers that set neither; "" sets nothing. */
  readonly region: string;
  /** `--sts-regional-endpoint`: add AWS_STS_REGIONAL_ENDPOINTS=regional; a service account annotation overrides it. */
  readonly regionalSts: boolean;
  /** `--token-audience`: the projected token's audience unless the service account names one. */
  readonly audience: string;
  /** `--token-expiration`: the projected token's lifetime in seconds unless an annotation sets it. */
  readonly tokenExpirationSeconds: number;
}

/**
 * The configuration of the webhook EKS runs on the control plane: the cluster's region, regional STS
 * (the default endpoint type since Kubernetes 1.23 on EKS, per the EKS user guide's "Configure the AWS
 * Security Token Service endpoint for a service account"), the default audience and 24 h tokens.
 */
export function eksWebhookConfig(region: string): WebhookConfig {
  return { region, regionalSts: true, audience: "sts.amazonaws.com", tokenExpirationSeconds: 86_400 };
}

/** A pod as the webhook sees it at admission: its namespace and its template (metadata and spec). */
export interface AdmittedPod {
  readonly namespace: string;
  readonly template: IPodTemplateSpec;
}

/** What the webhook derives from the service account and the pod's annotations before patching. */
interface PatchSettings {
  readonly roleArn: string;
  readonly audience: string;
  readonly regionalSts: boolean;
  readonly tokenExpirationSeconds: number;
  readonly skip: ReadonlySet<string>;
}

/**
 * Returns the pod template as the webhook's patch leaves it; the input is not changed. A service
 * account without the role annotation (or with an empty one) leaves the pod as it is. Otherwise every
 * container not listed in `skip-containers`, init containers included, gets the variables it does not
 * already set and a read-only mount of the token volume, and the pod gets that volume first in its list.
 */
export function applyPodIdentityWebhook(
  pod: AdmittedPod,
  serviceAccount: IServiceAccount,
  config: WebhookConfig,
): IPodTemplateSpec {
  const template = structuredClone(pod.template);
  const spec = template.spec;
  if (spec === undefined) throw new Error("the pod template has no spec");
  const wanted = `${pod.namespace}/${spec.serviceAccountName ?? "default"}`;
  const given = `${serviceAccount.metadata?.namespace ?? "default"}/${serviceAccount.metadata?.name ?? ""}`;
  if (wanted !== given)
    throw new Error(
      `the pod runs as service account ${wanted}, but ${given} was given: the webhook would read ${wanted}`,
    );
  const os = spec.nodeSelector?.["kubernetes.io/os"] ?? spec.nodeSelector?.["beta.kubernetes.io/os"];
  if (os === "windows") throw new Error("pods for Windows nodes (a C:\\ token path) are not modelled");

  const settings = patchSettings(template, serviceAccount, config);
  if (settings === undefined) return template;
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
    if (!settings.skip.has(container.name)) addToContainer(container, settings, config);
  }
  if (!(spec.volumes ?? []).some((volume) => volume.name === TOKEN_VOLUME.name)) {
    // The patch is "add /spec/volumes/0": the token volume goes first.
    spec.volumes = [tokenVolume(settings), ...(spec.volumes ?? [])];
  }
  return template;
}

function patchSettings(
  template: IPodTemplateSpec,
  serviceAccount: IServiceAccount,
  config: WebhookConfig,
): PatchSettings | undefined {
  const accountAnnotations = serviceAccount.metadata?.annotations ?? {};
  const podAnnotations = template.metadata?.annotations ?? {};
  const roleArn = accountAnnotations[ANNOTATIONS.roleArn] ?? "";
  if (roleArn === "") return undefined;
  // An unparsable value is ignored (the webhook logs it and keeps the default); a pod's token
  // expiration overrides its service account's, and anything under the minimum is raised to it.
  const accountExpiration =
    tokenExpiration(accountAnnotations[ANNOTATIONS.tokenExpiration]) ?? config.tokenExpirationSeconds;
  const skip = podAnnotations[ANNOTATIONS.skipContainers];
  return {
    roleArn,
    audience: accountAnnotations[ANNOTATIONS.audience] ?? config.audience,
    regionalSts: goBool(accountAnnotations[ANNOTATIONS.regionalSts]) ?? config.regionalSts,
    tokenExpirationSeconds: tokenExpiration(podAnnotations[ANNOTATIONS.tokenExpiration]) ?? accountExpiration,
    skip: new Set(skip === undefined ? [] : skip.split(",")),
  };
}

/** Go's strconv.ParseBool, which the webhook uses for the regional STS annotation. */
function goBool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (["1", "t", "T", "TRUE", "true", "True"].includes(value)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(value)) return false;
  return undefined;
}

function tokenExpiration(value: string | undefined): number | undefined {
  if (value === undefined || !/^[+-]?\d+$/.test(value)) return undefined;
  return Math.max(Number(value), MIN_TOKEN_EXPIRATION_SECONDS);
}

const WEB_IDENTITY_KEYS = ["AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"];
const REGION_KEYS = ["AWS_REGION", "AWS_DEFAULT_REGION"];
const REGIONAL_STS_KEY = "AWS_STS_REGIONAL_ENDPOINTS";

/**
 * The webhook's addEnvToContainer: each group of variables is added only when the container sets none
 * of it, in this order. A container that already sets all three groups is left alone entirely, mount
 * included.
 */
function addToContainer(container: IContainer, settings: PatchSettings, config: WebhookConfig): void {
  const names = new Set((container.env ?? []).map((variable) => variable.name));
  const hasWebIdentity = WEB_IDENTITY_KEYS.some((key) => names.has(key));
  const hasRegion = REGION_KEYS.some((key) => names.has(key));
  const hasRegionalSts = names.has(REGIONAL_STS_KEY);
  if (hasWebIdentity && hasRegion && hasRegionalSts) return;

  const env = [...(container.env ?? [])];
  if (!hasRegionalSts && settings.regionalSts) env.push({ name: REGIONAL_STS_KEY, value: "regional" });
  if (!hasRegion && config.region !== "") {
    env.push({ name: "AWS_DEFAULT_REGION", value: config.region }, { name: "AWS_REGION", value: config.region });
  }
  if (!hasWebIdentity) {
    env.push(
      { name: "AWS_ROLE_ARN", value: settings.roleArn },
      { name: "AWS_WEB_IDENTITY_TOKEN_FILE", value: `${TOKEN_VOLUME.mountPath}/${TOKEN_VOLUME.path}` },
    );
  }
  container.env = env;
  if (!(container.volumeMounts ?? []).some((mount) => mount.name === TOKEN_VOLUME.name)) {
    container.volumeMounts = [
      ...(container.volumeMounts ?? []),
      { name: TOKEN_VOLUME.name, readOnly: true, mountPath: TOKEN_VOLUME.mountPath },
    ];
  }
}

function tokenVolume(settings: PatchSettings): IVolume {
  return {
    name: TOKEN_VOLUME.name,
    projected: {
      sources: [
        {
          serviceAccountToken: {
            audience: settings.audience,
            expirationSeconds: settings.tokenExpirationSeconds,
            path: TOKEN_VOLUME.path,
          },
        },
      ],
    },
  };
}
