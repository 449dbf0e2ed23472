/**
 * The identity concern (IDENTITY_KEYS): how the consumer's pods get AWS credentials.
 * - irsa (default): IAM Roles for Service Accounts; the role trusts the cluster's OIDC provider and the
 *   service account carries the role's ARN (infra/identity.ts).
 * - pod-identity: EKS Pod Identity; the role trusts pods.eks.amazonaws.com, an association binds it to the
 *   service account, and the eks-pod-identity-agent add-on serves the credentials (infra/pod-identity.ts).
 */
import type { SettingProblem } from "../../consumer/src/contract";
import { IDENTITY_MODES, type IdentityMode } from "./keys";
import { checkEnum, type ConfigInput } from "./parse";

export interface IdentityConfig {
  readonly mode: IdentityMode;
}

/** The identity mode, or undefined (with a problem naming the choices) when it is not one of IDENTITY_MODES. */
export function readIdentity(input: ConfigInput, problems: SettingProblem[]): IdentityConfig | undefined {
  const mode = checkEnum(input, "identity", input.values.identity, IDENTITY_MODES, problems);
  return mode === undefined ? undefined : { mode };
}
