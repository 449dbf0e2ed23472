// What the Pulumi program renders for one committed stack, run under mocks exactly as the program
// tests run it (test/helpers/program.ts): the consumer's ServiceAccount, Secrets and Deployment, the
// queue and dead-letter queue they point at, and the role's trust policy. Everything the end-to-end
// run starts is taken from here, so a change to the program changes what runs.
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment" with { "resolution-mode": "import" };
import type { ISecret } from "kubernetes-models/v1/Secret" with { "resolution-mode": "import" };
import type { IServiceAccount } from "kubernetes-models/v1/ServiceAccount" with { "resolution-mode": "import" };
import type { PolicyDocument } from "../infra/iam-documents";
import type { ProgramRun, RecordedResource } from "../test/helpers/mocks";
import { runProgram, scenario, stackFileValues, type ConfigValue } from "../test/helpers/program";
import { ANNOTATIONS, type AdmittedPod } from "./pod-identity-webhook";

/** A rendered queue's attributes that change how SQS behaves for a consumer. */
export interface RenderedQueue {
  readonly name: string;
  readonly url: string;
  readonly visibilityTimeoutSeconds: number;
  readonly receiveWaitTimeSeconds: number;
  readonly messageRetentionSeconds: number;
  /** Receives before SQS moves a message to the dead-letter queue. */
  readonly maxReceiveCount: number;
  readonly deadLetterQueue: { readonly name: string; readonly messageRetentionSeconds: number };
}

export interface RenderedWorkload {
  readonly stack: string;
  /** The stack's `aws:region`: the cluster's region, which the EKS webhook is configured with. */
  readonly region: string;
  readonly serviceAccount: IServiceAccount;
  readonly secrets: readonly ISecret[];
  readonly deployment: IDeployment;
  /** The queue whose URL a Secret holds. */
  readonly queue: RenderedQueue;
  /** The cluster's OIDC issuer URL (the stack output), which signs the pods' service account tokens. */
  readonly oidcIssuerUrl: string;
  /** The trust policy of the role the ServiceAccount's annotation (IRSA) or its Pod Identity association names. */
  readonly trustPolicy: PolicyDocument;
  /** The stack's EKS Pod Identity association (identity: pod-identity), if it renders one. */
  readonly podIdentityAssociation?: RenderedAssociation;
}

/** An EKS Pod Identity association: which service account gets which role. */
export interface RenderedAssociation {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly roleArn: string;
}

/**
 * Runs the program for a committed stack (Pulumi.<stack>.yaml) under mocks and reads the workload.
 * `overrides` replace stack file values by key (e.g. `sqs-eks-consumer:identity`).
 */
export async function renderStack(
  stack: string,
  overrides: Readonly<Record<string, ConfigValue>> = {},
): Promise<RenderedWorkload> {
  const values = { ...(await stackFileValues(stack)), ...overrides };
  const run = await runProgram(await scenario(stack, values));
  if (run.errors.length > 0) throw new Error(`the program failed for stack ${stack}:\n  ${run.errors.join("\n  ")}`);
  const region = values["aws:region"];
  if (typeof region !== "string") throw new Error(`Pulumi.${stack}.yaml sets no aws:region`);

  const serviceAccount = oneObject<IServiceAccount>(run, "kubernetes:core/v1:ServiceAccount");
  const deployment = oneObject<IDeployment>(run, "kubernetes:apps/v1:Deployment");
  const secrets = ofType(run, "kubernetes:core/v1:Secret").map((resource) => resource.inputs as unknown as ISecret);
  const associations = ofType(run, "aws:eks/podIdentityAssociation:PodIdentityAssociation").map((resource) => ({
    namespace: String(resource.inputs.namespace),
    serviceAccount: String(resource.inputs.serviceAccount),
    roleArn: String(resource.inputs.roleArn),
  }));
  if (associations.length > 1)
    throw new Error(`expected at most one Pod Identity association, the program rendered ${associations.length}`);
  const podIdentityAssociation = associations[0];
  const roleArn = serviceAccount.metadata?.annotations?.[ANNOTATIONS.roleArn] ?? podIdentityAssociation?.roleArn;
  const role = ofType(run, "aws:iam/role:Role").find((resource) => resource.state.arn === roleArn);
  if (role === undefined)
    throw new Error(
      `no rendered IAM role has the ServiceAccount's (or its association's) ARN ${roleArn ?? "(neither names one)"}`,
    );
  const oidcIssuerUrl = run.outputs.oidcProviderUrl;
  if (typeof oidcIssuerUrl !== "string") throw new Error("the stack exports no oidcProviderUrl");

  return {
    stack,
    region,
    serviceAccount,
    secrets,
    deployment,
    queue: queueNamedBy(run, secrets),
    oidcIssuerUrl,
    trustPolicy: JSON.parse(String(role.inputs.assumeRolePolicy)) as PolicyDocument,
    ...(podIdentityAssociation === undefined ? {} : { podIdentityAssociation }),
  };
}

/** The Deployment's pod as admission sees it: in the Deployment's namespace. */
export function podOf(workload: RenderedWorkload): AdmittedPod {
  const { metadata, spec } = workload.deployment;
  if (metadata?.namespace === undefined || spec === undefined)
    throw new Error("the Deployment has no namespace or no spec");
  return { namespace: metadata.namespace, template: spec.template };
}

function ofType(run: ProgramRun, type: string): readonly RecordedResource[] {
  return run.resources.filter((resource) => resource.type === type);
}

function oneObject<T>(run: ProgramRun, type: string): T {
  const found = ofType(run, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, the program rendered ${found.length}`);
  return found[0]!.inputs as unknown as T;
}

function queueNamedBy(run: ProgramRun, secrets: readonly ISecret[]): RenderedQueue {
  const queues = ofType(run, "aws:sqs/queue:Queue");
  const values = new Set(secrets.flatMap((secret) => Object.values(secret.stringData ?? {})));
  const queue = queues.find((candidate) => values.has(String(candidate.state.url)));
  if (queue === undefined) throw new Error("no Secret holds the URL of a rendered queue");
  const redrive = JSON.parse(String(queue.inputs.redrivePolicy)) as {
    deadLetterTargetArn: string;
    maxReceiveCount: number;
  };
  const dlq = queues.find((candidate) => candidate.state.arn === redrive.deadLetterTargetArn);
  if (dlq === undefined)
    throw new Error(`the queue's dead-letter target ${redrive.deadLetterTargetArn} was not rendered`);
  return {
    name: String(queue.inputs.name),
    url: String(queue.state.url),
    visibilityTimeoutSeconds: Number(queue.inputs.visibilityTimeoutSeconds),
    receiveWaitTimeSeconds: Number(queue.inputs.receiveWaitTimeSeconds),
    messageRetentionSeconds: Number(queue.inputs.messageRetentionSeconds),
    maxReceiveCount: redrive.maxReceiveCount,
    deadLetterQueue: {
      name: String(dlq.inputs.name),
      messageRetentionSeconds: Number(dlq.inputs.messageRetentionSeconds),
    },
  };
}
