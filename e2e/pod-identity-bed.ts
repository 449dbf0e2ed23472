// The rendered-pod bed for identity `pod-identity`: the dev stack rendered with that mode under mocks,
// EKS's admission changes for its Pod Identity association (e2e/pod-identity-association.ts), the
// token file the kubelet would project, and a loopback stand-in for the node's EKS Pod Identity Agent
// that accepts only that file's content. The queue side is the IRSA bed's (e2e/rendered-pod-bed.ts).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { emulatorClient, startEmulator, type Emulator, type EmulatorRequest } from "../consumer/local/emulator";
import { PodIdentityAgentStandIn } from "../consumer/test/helpers/pod-identity-agent-stand-in";
import { WORKLOAD_NAMES } from "../infra/workload";
import { POD_IDENTITY_AGENT_URI, POD_IDENTITY_TOKEN_VOLUME, applyPodIdentityAssociation } from "./pod-identity-association";
import { podLaunch, type PodLaunch } from "./pod-launch";
import { CREDENTIAL_LIFETIME_SECONDS, createRenderedQueue, replaceSecretValue, writeProjectedToken, type PodRun } from "./rendered-pod-bed";
import { podOf, renderStack, type RenderedWorkload } from "./rendered-workload";
import { encodeToken, podTokenClaims, type TokenClaims } from "./service-account-token";

/** The stack config that selects EKS Pod Identity (infra/config/identity.ts). */
export const POD_IDENTITY_CONFIG = { "sqs-eks-consumer:identity": "pod-identity" } as const;

export interface PodIdentityBed {
  readonly workload: RenderedWorkload;
  readonly emulator: Emulator;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly requests: readonly EmulatorRequest[];
  readonly agent: PodIdentityAgentStandIn;
  /** The projected pods.eks.amazonaws.com token on this machine, and its claims. */
  readonly tokenFile: string;
  readonly claims: TokenClaims;
  /** The container as EKS leaves it for the association, with the agent's address moved to the stand-in. */
  readonly associated: PodRun;
  /** The same container without an association: EKS leaves it alone. */
  readonly withoutAssociation: PodRun;
  close(): Promise<void>;
}

/**
 * Starts the bed for a committed stack rendered with identity `pod-identity`. Throws when the program
 * renders no association for the Deployment's service account, or when the mutation does not yield one
 * projected token with the Pod Identity audience and the agent's address.
 */
export async function startPodIdentityBed(stack: string): Promise<PodIdentityBed> {
  const workload = await renderStack(stack, POD_IDENTITY_CONFIG);
  const requests: EmulatorRequest[] = [];
  const emulator = await startEmulator({ region: workload.region, onRequest: (request) => requests.push(request) });
  const cleanups: (() => Promise<void>)[] = [() => emulator.stop()];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    const sqs = emulatorClient(emulator.endpoint, workload.region);
    cleanups.push(() => Promise.resolve(sqs.destroy()));
    const { queueUrl } = await createRenderedQueue(sqs, workload.queue);
    const secrets = replaceSecretValue(workload.secrets, workload.queue.url, queueUrl);

    const pod = podOf(workload);
    const serviceAccount = pod.template.spec?.serviceAccountName ?? "default";
    const association = workload.podIdentityAssociation;
    if (association?.namespace !== pod.namespace || association.serviceAccount !== serviceAccount) {
      throw new Error(`the program renders no Pod Identity association for ${pod.namespace}/${serviceAccount}`);
    }
    const launchWith = (associated: boolean): PodLaunch =>
      podLaunch({ namespace: pod.namespace, template: applyPodIdentityAssociation(pod, associated) }, WORKLOAD_NAMES.container, secrets);
    const associatedLaunch = launchWith(true);
    const withoutLaunch = launchWith(false);

    const [projected, ...others] = associatedLaunch.projectedTokens;
    if (projected?.audience !== POD_IDENTITY_TOKEN_VOLUME.audience || others.length > 0) {
      throw new Error(`expected one projected token for ${POD_IDENTITY_TOKEN_VOLUME.audience}, found ${JSON.stringify(associatedLaunch.projectedTokens)}`);
    }
    const claims = podTokenClaims({
      issuer: workload.oidcIssuerUrl,
      namespace: pod.namespace,
      serviceAccount,
      audience: projected.audience,
      expirationSeconds: projected.expirationSeconds,
    });
    const tokenDir = await mkdtemp(join(tmpdir(), "e2e-pod-identity-token-"));
    cleanups.push(() => rm(tokenDir, { recursive: true, force: true }));
    const tokenFile = await writeProjectedToken(tokenDir, projected.path, encodeToken(claims), associatedLaunch.user?.uid);

    const agent = new PodIdentityAgentStandIn({ tokenFile, lifetimeSeconds: CREDENTIAL_LIFETIME_SECONDS });
    await agent.start();
    cleanups.push(() => agent.stop());

    // The agent listens on the node's link-local 169.254.170.23, which this machine has no route to.
    // The pod spec's own value is replaced (not added beside it) with the stand-in's loopback URI, one
    // of the hosts the SDK allows plain http to, as the IRSA bed points AWS_ENDPOINT_URL_STS at its STS
    // stand-in; the token file variable and the volume stay as EKS sets them.
    if (associatedLaunch.env.AWS_CONTAINER_CREDENTIALS_FULL_URI !== POD_IDENTITY_AGENT_URI) {
      throw new Error(`the mutated pod points at ${associatedLaunch.env.AWS_CONTAINER_CREDENTIALS_FULL_URI ?? "no agent"}, not ${POD_IDENTITY_AGENT_URI}`);
    }
    const toStandIn: PodLaunch = { ...associatedLaunch, env: { ...associatedLaunch.env, AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.fullUri } };

    const extraEnv = {
      AWS_ENDPOINT_URL_SQS: emulator.endpoint,
      // As in the IRSA bed: the node's instance metadata is out of the pod's reach.
      AWS_EC2_METADATA_DISABLED: "true",
    };
    return {
      workload,
      emulator,
      sqs,
      queueUrl,
      requests,
      agent,
      tokenFile,
      claims,
      associated: { launch: toStandIn, host: { volumeHostPaths: { [projected.volume]: tokenDir }, extraEnv } },
      withoutAssociation: { launch: withoutLaunch, host: { volumeHostPaths: {}, extraEnv } },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
