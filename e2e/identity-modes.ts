// The two ways the rendered pod gets AWS credentials (stack config `identity`), as the end-to-end run
// needs to tell them apart: what admission adds for the identity (the EKS pod identity webhook for a
// role annotation, or EKS for a Pod Identity association), the loopback stand-in that issues the
// credentials and accepts only the projected token, what the run changes so the pod reaches that
// stand-in, and what the consumer must log and present in each mode. Everything else about the run
// (the queue, the token file, the checks) is shared by e2e/rendered-pod-bed.ts and e2e/consumer-checks.ts.
import assert from "node:assert/strict";
import type { IPodTemplateSpec } from "kubernetes-models/v1/PodTemplateSpec" with { "resolution-mode": "import" };
import type { LogLine } from "../consumer/test/helpers/log-capture";
import { PodIdentityAgentStandIn } from "../consumer/test/helpers/pod-identity-agent-stand-in";
import { StsStandIn } from "../consumer/test/helpers/sts-stand-in";
import {
  POD_IDENTITY_AGENT_URI,
  POD_IDENTITY_ENV,
  POD_IDENTITY_TOKEN_VOLUME,
  applyPodIdentityAssociation,
} from "./pod-identity-association";
import { ANNOTATIONS, TOKEN_VOLUME, applyPodIdentityWebhook, eksWebhookConfig } from "./pod-identity-webhook";
import type { PodLaunch } from "./pod-launch";
import { podOf, type RenderedWorkload } from "./rendered-workload";
import { decodeToken, trustPolicyRejections } from "./service-account-token";

/** One set of credentials a stand-in issued, and the token presented for it. */
export interface IssuedCredentials {
  readonly accessKeyId: string;
  readonly token: string;
}

/** The loopback service that issues the pod's credentials: STS for IRSA, the node's agent for Pod Identity. */
export interface CredentialStandIn {
  readonly issued: readonly IssuedCredentials[];
  /** One "<error code>: <message>" per refused request (a wrong token, role or path). */
  readonly rejected: readonly string[];
  stop(): Promise<void>;
}

/** The stand-in as started for one bed, with what the pod needs to reach it. */
export interface StartedIssuer {
  readonly standIn: CredentialStandIn;
  /** Where it listens, for the run's log. */
  readonly endpoint: string;
  /** Variables the pod spec does not set that point the SDK at the stand-in. */
  readonly extraEnv: Readonly<Record<string, string>>;
  /** The admitted launch with any value of the pod spec that names the real service replaced; throws when that value is not EKS's. */
  substitute(launch: PodLaunch): PodLaunch;
}

export interface IdentityMode {
  /** The stack config value (`sqs-eks-consumer:identity`). */
  readonly name: "irsa" | "pod-identity";
  /** What grants the pod its role in this mode, for test names and messages. */
  readonly grant: string;
  /** Stack config the rendering overrides to select the mode (none for the default). */
  readonly config: Readonly<Record<string, string>>;
  /** The variables admission adds with the grant (and must not add without it). */
  readonly grantedEnv: readonly string[];
  /** The variable that names the projected token file, and that file's path inside the container. */
  readonly tokenFileEnv: string;
  readonly tokenPathInPod: string;
  /** The audience admission gives the projected token. */
  readonly audience: string;
  /** The prefix of every access key id the stand-in issues. */
  readonly issuedKeyPrefix: string;
  /** What the consumer's credentials warning must say without the grant. */
  readonly missingHint: RegExp;
  /** The Deployment's pod template after admission, with or without the grant; throws when the program renders no grant for it. */
  admit(workload: RenderedWorkload, granted: boolean): IPodTemplateSpec;
  /** Starts the stand-in that accepts only `tokenFile`'s current content. */
  startIssuer(workload: RenderedWorkload, tokenFile: string, lifetimeSeconds: number): Promise<StartedIssuer>;
  /** Asserts the consumer's `credentials` log line names this mode's source (and role, where it can). */
  expectCredentialsLine(line: LogLine, launch: PodLaunch): void;
  /** Asserts what the service behind the stand-in would check of a presented token beyond matching the file: the role's trust (IRSA), the association's service account (Pod Identity). */
  expectPresentedToken(workload: RenderedWorkload, token: string): void;
}

/** IRSA: the webhook's role annotation, web identity token, STS stand-in reached through AWS_ENDPOINT_URL_STS. */
export const IRSA: IdentityMode = {
  name: "irsa",
  grant: "the role annotation",
  config: {},
  grantedEnv: ["AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"],
  tokenFileEnv: "AWS_WEB_IDENTITY_TOKEN_FILE",
  tokenPathInPod: `${TOKEN_VOLUME.mountPath}/${TOKEN_VOLUME.path}`,
  audience: eksWebhookConfig("").audience,
  issuedKeyPrefix: "ASIASTANDIN",
  missingHint: /No AWS credentials found.*eks\.amazonaws\.com\/role-arn/,
  admit(workload, granted) {
    const serviceAccount = granted ? workload.serviceAccount : withoutRoleAnnotation(workload.serviceAccount);
    return applyPodIdentityWebhook(podOf(workload), serviceAccount, eksWebhookConfig(workload.region));
  },
  async startIssuer(workload, tokenFile, lifetimeSeconds) {
    const roleArn = workload.serviceAccount.metadata?.annotations?.[ANNOTATIONS.roleArn] ?? "";
    const sts = new StsStandIn({ roleArn, tokenFile, lifetimeSeconds });
    await sts.start();
    return {
      standIn: sts,
      endpoint: sts.endpoint,
      extraEnv: { AWS_ENDPOINT_URL_STS: sts.endpoint },
      substitute: (launch) => launch,
    };
  },
  expectCredentialsLine(line, launch) {
    assert.equal(
      line.source,
      "web identity token (IRSA)",
      `the consumer did not use the web identity token: ${said(line)}`,
    );
    assert.equal(line.roleArn, launch.env.AWS_ROLE_ARN);
  },
  expectPresentedToken(workload, token) {
    assert.deepEqual(
      trustPolicyRejections(workload.trustPolicy, decodeToken(token)),
      [],
      "the rendered role's trust policy rejects the pod's token",
    );
  },
};

/**
 * EKS Pod Identity: the association's env and token (e2e/pod-identity-association.ts), the agent stand-in.
 * The one substitution: the agent's link-local address has no route here, so the pod spec's
 * AWS_CONTAINER_CREDENTIALS_FULL_URI is replaced (not added beside) by the stand-in's loopback URI, one
 * of the hosts the SDK allows plain http to; the token file variable and the volume stay as EKS sets them.
 */
export const POD_IDENTITY: IdentityMode = {
  name: "pod-identity",
  grant: "the association",
  config: { "sqs-eks-consumer:identity": "pod-identity" },
  grantedEnv: Object.keys(POD_IDENTITY_ENV),
  tokenFileEnv: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
  tokenPathInPod: POD_IDENTITY_ENV.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
  audience: POD_IDENTITY_TOKEN_VOLUME.audience,
  issuedKeyPrefix: "ASIAPODID",
  missingHint: /No AWS credentials found.*EKS Pod Identity association/,
  admit(workload, granted) {
    // The association lives in the EKS API, not in the pod or its ServiceAccount: the pod is admitted
    // with it only when the rendered one names the Deployment's namespace and service account.
    const pod = podOf(workload);
    const serviceAccount = pod.template.spec?.serviceAccountName ?? "default";
    const association = workload.podIdentityAssociation;
    if (association?.namespace !== pod.namespace || association.serviceAccount !== serviceAccount) {
      throw new Error(`the program renders no Pod Identity association for ${pod.namespace}/${serviceAccount}`);
    }
    return applyPodIdentityAssociation(pod, granted);
  },
  async startIssuer(_workload, tokenFile, lifetimeSeconds) {
    const agent = new PodIdentityAgentStandIn({ tokenFile, lifetimeSeconds });
    await agent.start();
    return {
      standIn: agent,
      endpoint: agent.fullUri,
      extraEnv: {},
      substitute(launch) {
        if (launch.env.AWS_CONTAINER_CREDENTIALS_FULL_URI !== POD_IDENTITY_AGENT_URI) {
          throw new Error(
            `the admitted pod points at ${launch.env.AWS_CONTAINER_CREDENTIALS_FULL_URI ?? "no agent"}, not ${POD_IDENTITY_AGENT_URI}`,
          );
        }
        return { ...launch, env: { ...launch.env, AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.fullUri } };
      },
    };
  },
  expectCredentialsLine(line) {
    assert.match(
      String(line.source),
      /^container credentials endpoint/,
      `the consumer did not use the container credentials endpoint: ${said(line)}`,
    );
  },
  // EKS Auth (AssumeRoleForPodIdentity) finds the association by the token's namespace and service
  // account, for the pods.eks.amazonaws.com audience. The role's trust and session-tag conditions are
  // judged by the program tests: the stand-in calls no EKS Auth.
  expectPresentedToken(workload, token) {
    const claims = decodeToken(token);
    const association = workload.podIdentityAssociation;
    assert.deepEqual(
      claims.aud,
      [POD_IDENTITY_TOKEN_VOLUME.audience],
      "the presented token is not for EKS Pod Identity",
    );
    assert.equal(
      claims.sub,
      `system:serviceaccount:${association?.namespace}:${association?.serviceAccount}`,
      "the presented token is not the associated service account's",
    );
  },
};

export const IDENTITY_MODES: readonly IdentityMode[] = [IRSA, POD_IDENTITY];

/** The variables the other modes' grants add: none may be set in this mode. */
export function otherModesEnv(mode: IdentityMode): string[] {
  return IDENTITY_MODES.filter((other) => other !== mode).flatMap((other) => other.grantedEnv);
}

/** A credentials log line's source, or its error and hint when the consumer has none yet. */
function said(line: LogLine): string {
  return JSON.stringify(line.source === undefined ? { error: line.error, hint: line.hint } : { source: line.source });
}

function withoutRoleAnnotation(serviceAccount: RenderedWorkload["serviceAccount"]): RenderedWorkload["serviceAccount"] {
  const { [ANNOTATIONS.roleArn]: _removed, ...annotations } = serviceAccount.metadata?.annotations ?? {};
  return { ...serviceAccount, metadata: { ...serviceAccount.metadata, annotations } };
}
