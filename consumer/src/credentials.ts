import type { EnvLike } from "./settings";

/**
 * Credentials come from the AWS SDK's default provider chain only; nothing here fetches, caches or
 * refreshes them. This module only says, for the start-up log, which source the chain used.
 */

/** The chain's sources as the SDK tags them on resolved credentials (`$source`), in plain words. */
const SOURCE_NAMES: Readonly<Record<string, string>> = {
  CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN: "web identity token (IRSA)",
  CREDENTIALS_PROFILE_STS_WEB_ID_TOKEN: "web identity token from a shared config profile",
  CREDENTIALS_ENV_VARS: "environment variables",
  CREDENTIALS_HTTP: "container credentials endpoint (EKS Pod Identity or ECS)",
  CREDENTIALS_IMDS: "instance metadata (the node's role)",
  CREDENTIALS_PROFILE: "shared config profile",
  CREDENTIALS_PROFILE_SOURCE_PROFILE: "shared config profile (assumed role)",
  CREDENTIALS_PROFILE_NAMED_PROVIDER: "shared config profile (credential source)",
  CREDENTIALS_PROFILE_PROCESS: "shared config profile (credential process)",
  CREDENTIALS_PROFILE_SSO: "shared config profile (SSO)",
  CREDENTIALS_PROFILE_SSO_LEGACY: "shared config profile (legacy SSO)",
  CREDENTIALS_PROCESS: "credential process",
  CREDENTIALS_SSO: "SSO",
  CREDENTIALS_SSO_LEGACY: "legacy SSO",
};

/**
 * The addresses of the EKS Pod Identity Agent (EKS user guide, "pod-id-how-it-works"): credentials from a
 * container endpoint on one of them come from a Pod Identity association.
 */
const POD_IDENTITY_AGENT_HOSTS = new Set(["169.254.170.23", "[fd00:ec2::23]"]);

/** Whether a container credentials URL points at the EKS Pod Identity Agent. */
export function isPodIdentityAgent(fullUri: string | undefined): boolean {
  if (fullUri === undefined || fullUri === "") return false;
  try {
    return POD_IDENTITY_AGENT_HOSTS.has(new URL(fullUri).hostname);
  } catch {
    return false;
  }
}

/**
 * What may be logged about credentials: where they came from (the role and token file of IRSA; the
 * endpoint and token file of a container endpoint, never the token) and when they expire, never the keys.
 */
export interface CredentialSummary {
  readonly source: string;
  readonly roleArn?: string;
  readonly tokenFile?: string;
  readonly endpoint?: string;
  readonly expiresAt?: string;
}

/** The parts of resolved credentials this module reads; the keys themselves are never touched. */
export interface ResolvedCredentials {
  readonly expiration?: Date;
  readonly $source?: Readonly<Record<string, string>>;
}

export function summarizeCredentials(credentials: ResolvedCredentials, env: EnvLike): CredentialSummary {
  const tags = Object.keys(credentials.$source ?? {});
  const names = tags.map((tag) => SOURCE_NAMES[tag]).filter((name): name is string => name !== undefined);
  const webIdentity = tags.includes("CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN");
  const container = tags.includes("CREDENTIALS_HTTP");
  const endpoint = container ? env.AWS_CONTAINER_CREDENTIALS_FULL_URI : undefined;
  const tokenFile = webIdentity
    ? env.AWS_WEB_IDENTITY_TOKEN_FILE
    : container
      ? env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
      : undefined;
  return {
    source:
      container && isPodIdentityAgent(endpoint)
        ? "container credentials endpoint (EKS Pod Identity association)"
        : (names[0] ?? "default provider chain"),
    ...(webIdentity && env.AWS_ROLE_ARN ? { roleArn: env.AWS_ROLE_ARN } : {}),
    ...(tokenFile ? { tokenFile } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(credentials.expiration ? { expiresAt: credentials.expiration.toISOString() } : {}),
  };
}
