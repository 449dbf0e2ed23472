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

/** What may be logged about credentials: where they came from and when they expire, never the keys. */
export interface CredentialSummary {
  readonly source: string;
  readonly roleArn?: string;
  readonly tokenFile?: string;
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
  return {
    source: names[0] ?? "default provider chain",
    ...(webIdentity && env.AWS_ROLE_ARN ? { roleArn: env.AWS_ROLE_ARN } : {}),
    ...(webIdentity && env.AWS_WEB_IDENTITY_TOKEN_FILE ? { tokenFile: env.AWS_WEB_IDENTITY_TOKEN_FILE } : {}),
    ...(credentials.expiration ? { expiresAt: credentials.expiration.toISOString() } : {}),
  };
}
