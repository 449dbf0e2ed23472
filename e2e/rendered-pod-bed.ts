// Everything around the rendered pod that a cluster and AWS would provide, on loopback, for either
// identity mode (e2e/identity-modes.ts): the SQS emulator holding a queue and dead-letter queue with
// the rendered attributes, admission's changes to the pod for its identity, the token file the kubelet
// would project, and the mode's credential stand-in (STS, or the EKS Pod Identity Agent) that admits
// only that file's token. Shared by the container run (`npm run e2e`) and the plain process run
// (`npm test`), so both start the same launch.
import { chmod, chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { ISecret } from "kubernetes-models/v1/Secret" with { "resolution-mode": "import" };
import { emulatorClient, startEmulator, type Emulator, type EmulatorRequest } from "../consumer/local/emulator";
import { TUNABLES } from "../consumer/src/settings";
import { WORKLOAD_NAMES } from "../infra/workload";
import type { CredentialStandIn, IdentityMode } from "./identity-modes";
import { movePort, podLaunch, type HostSide, type PodLaunch } from "./pod-launch";
import { renderStack, podOf, type RenderedQueue, type RenderedWorkload } from "./rendered-workload";
import { encodeToken, podTokenClaims, type TokenClaims } from "./service-account-token";

/** One way to start the consumer container: the launch read from the pod spec, and what this machine adds. */
export interface PodRun {
  readonly launch: PodLaunch;
  readonly host: HostSide;
}

export interface RenderedPodBed {
  readonly mode: IdentityMode;
  readonly workload: RenderedWorkload;
  readonly emulator: Emulator;
  /** A client of the emulator in the stack's region, for the test's own sends and checks. */
  readonly sqs: SQSClient;
  /** The emulator's queue, standing in for the rendered one (its URL replaces the Secret's). */
  readonly queueUrl: string;
  readonly dlqUrl: string;
  /** Every request the emulator served, with the access key that signed it. */
  readonly requests: readonly EmulatorRequest[];
  /** The mode's credential stand-in, and where it listens. */
  readonly issuer: CredentialStandIn;
  readonly issuerEndpoint: string;
  /** The projected token on this machine, and its claims. */
  readonly tokenFile: string;
  readonly claims: TokenClaims;
  /** The consumer container as admission leaves it with the mode's grant, pointed at the stand-in. */
  readonly granted: PodRun;
  /** The same container without the grant (no role annotation, no association): admission leaves it alone. */
  readonly withoutGrant: PodRun;
  close(): Promise<void>;
}

/** Lifetime of the stand-in's credentials: long enough that no refresh happens during a run. */
export const CREDENTIAL_LIFETIME_SECONDS = 3600;

/**
 * Starts the bed for a committed stack (Pulumi.<stack>.yaml) rendered in `mode`. Throws when the
 * program renders no grant for the Deployment's service account, when admission does not yield one
 * projected token of the mode's audience, or when a value the run substitutes is not EKS's.
 */
export async function startRenderedPodBed(stack: string, mode: IdentityMode): Promise<RenderedPodBed> {
  const workload = await renderStack(stack, mode.config);
  const requests: EmulatorRequest[] = [];
  const emulator = await startEmulator({ region: workload.region, onRequest: (request) => requests.push(request) });
  const cleanups: (() => Promise<void>)[] = [() => emulator.stop()];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    // Queue URLs from the emulator name the region their CreateQueue call was signed for.
    const sqs = emulatorClient(emulator.endpoint, workload.region);
    cleanups.push(() => Promise.resolve(sqs.destroy()));
    const { queueUrl, dlqUrl } = await createRenderedQueue(sqs, workload.queue);
    const secrets = replaceSecretValue(workload.secrets, workload.queue.url, queueUrl);

    const pod = podOf(workload);
    const launchWith = (granted: boolean): PodLaunch =>
      podLaunch(
        { namespace: pod.namespace, template: mode.admit(workload, granted) },
        WORKLOAD_NAMES.container,
        secrets,
      );
    const grantedLaunch = launchWith(true);
    const withoutLaunch = launchWith(false);

    const [projected, ...others] = grantedLaunch.projectedTokens;
    if (projected?.audience !== mode.audience || others.length > 0) {
      throw new Error(
        `expected one projected token for ${mode.audience}, found ${JSON.stringify(grantedLaunch.projectedTokens)}`,
      );
    }
    const claims = podTokenClaims({
      issuer: workload.oidcIssuerUrl,
      namespace: pod.namespace,
      serviceAccount: pod.template.spec?.serviceAccountName ?? "default",
      audience: projected.audience,
      expirationSeconds: projected.expirationSeconds,
    });
    const tokenDir = await mkdtemp(join(tmpdir(), `e2e-${mode.name}-token-`));
    cleanups.push(() => rm(tokenDir, { recursive: true, force: true }));
    const tokenFile = await writeProjectedToken(tokenDir, projected.path, encodeToken(claims), grantedLaunch.user?.uid);

    const issuer = await mode.startIssuer(workload, tokenFile, CREDENTIAL_LIFETIME_SECONDS);
    cleanups.push(() => issuer.standIn.stop());

    const extraEnv = {
      AWS_ENDPOINT_URL_SQS: emulator.endpoint,
      ...issuer.extraEnv,
      // Stands in for the node's instance metadata limits (IMDSv2, hop limit 1), which keep pods from
      // the node's role: the SDK's chain must not find credentials there, nor wait for them.
      AWS_EC2_METADATA_DISABLED: "true",
    };
    return {
      mode,
      workload,
      emulator,
      sqs,
      queueUrl,
      dlqUrl,
      requests,
      issuer: issuer.standIn,
      issuerEndpoint: issuer.endpoint,
      tokenFile,
      claims,
      granted: {
        launch: issuer.substitute(grantedLaunch),
        host: { volumeHostPaths: { [projected.volume]: tokenDir }, extraEnv },
      },
      withoutGrant: { launch: withoutLaunch, host: { volumeHostPaths: {}, extraEnv } },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The emulator's stand-in for the rendered queue: same names and attributes, redrive to the stand-in DLQ. */
export async function createRenderedQueue(
  sqs: SQSClient,
  queue: RenderedQueue,
): Promise<{ queueUrl: string; dlqUrl: string }> {
  const dlq = await sqs.send(
    new CreateQueueCommand({
      QueueName: queue.deadLetterQueue.name,
      Attributes: { MessageRetentionPeriod: String(queue.deadLetterQueue.messageRetentionSeconds) },
    }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  const created = await sqs.send(
    new CreateQueueCommand({
      QueueName: queue.name,
      Attributes: {
        VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
        ReceiveMessageWaitTimeSeconds: String(queue.receiveWaitTimeSeconds),
        MessageRetentionPeriod: String(queue.messageRetentionSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: Attributes?.QueueArn,
          maxReceiveCount: queue.maxReceiveCount,
        }),
      },
    }),
  );
  return { queueUrl: created.QueueUrl!, dlqUrl: dlq.QueueUrl! };
}

/** The Secrets with every value equal to `from` replaced by `to`. */
export function replaceSecretValue(secrets: readonly ISecret[], from: string, to: string): ISecret[] {
  return secrets.map((secret) => ({
    ...secret,
    stringData: Object.fromEntries(
      Object.entries(secret.stringData ?? {}).map(([key, value]) => [key, value === from ? to : value]),
    ),
  }));
}

/**
 * Writes the token as the kubelet projects it for a pod whose containers all run as one user: owned
 * by that user (group left as is), mode 0600. The directory stays readable by everyone, so that the
 * container's user can reach the file.
 */
export async function writeProjectedToken(
  dir: string,
  path: string,
  token: string,
  ownerUid: number | undefined,
): Promise<string> {
  await chmod(dir, 0o755);
  const file = join(dir, path);
  await writeFile(file, token, { mode: 0o600 });
  if (ownerUid !== undefined && process.getuid?.() === 0) await chown(file, ownerUid, 0);
  return file;
}

/** True when nothing on this machine listens on the port (on any address). */
async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The run with its health port as rendered when that port is free on this machine; otherwise with the
 * port and HEALTH_PORT moved together to a free one (the pods here share the host's network). Says
 * which in `note`.
 */
export async function onFreeHealthPort(run: PodRun): Promise<PodRun & { readonly note: string }> {
  const rendered = run.launch.ports[WORKLOAD_NAMES.healthPort];
  if (rendered === undefined) throw new Error(`the container has no port named '${WORKLOAD_NAMES.healthPort}'`);
  if (await portIsFree(rendered)) return { ...run, note: `health port ${rendered} as rendered` };
  const port = await freePort();
  return {
    ...run,
    launch: movePort(run.launch, WORKLOAD_NAMES.healthPort, TUNABLES.healthPort.env, port),
    note: `health port moved from ${rendered} (in use on this machine) to ${port}, with ${TUNABLES.healthPort.env}`,
  };
}
