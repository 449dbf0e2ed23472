/**
 * What each role purpose may be allowed, and the problems of a permissions document against it. The
 * check is by effect: every Allow statement, every action a pattern matches in AWS's catalog
 * (`sqs:Get*` is judged as the actions it grants), every resource. Conditions on an Allow statement
 * are ignored: the rule asks what the statement can grant at most. Deny statements only take
 * permissions away and are not needed.
 */
import { SQS_ACTIONS_USED } from "../../consumer/src/contract";
import { actionsGrantedBy, isAllowedAction } from "./action-catalog";
import { hasWildcard, parsePolicyDocument, statementLabel } from "./iam-document";
import type { Purpose } from "./role-trust";
import { designatesQueue, type StackResource } from "./stack";

/** The actions KEDA's aws-sqs-queue scaler calls (kedacore/keda pkg/scalers/aws_sqs_queue_scaler.go). */
export const SCALER_ACTIONS: readonly string[] = ["sqs:GetQueueAttributes"];

/** The consumer's SQS actions, from the consumer's own list (consumer/src/contract). */
export const CONSUMER_ACTIONS: readonly string[] = SQS_ACTIONS_USED;

/**
 * AWS managed policies a node role may carry: the worker, CNI and image-pull policies EKS documents for
 * managed node groups (https://docs.aws.amazon.com/eks/latest/userguide/create-node-role.html), and the
 * minimal worker policy of EKS Auto Mode's nodes (https://docs.aws.amazon.com/eks/latest/userguide/auto-create-node-role.html).
 */
export const DEFAULT_NODE_MANAGED_POLICIES: readonly string[] = [
  "AmazonEKSWorkerNodePolicy",
  "AmazonEKSWorkerNodeMinimalPolicy",
  "AmazonEKS_CNI_Policy",
  "AmazonEC2ContainerRegistryPullOnly",
  "AmazonEC2ContainerRegistryReadOnly",
];

/**
 * AWS managed policies an EKS cluster role may carry (https://docs.aws.amazon.com/eks/latest/userguide/cluster-iam-role.html),
 * with the four EKS Auto Mode adds so EKS can run the cluster's instances, volumes, load balancers and pod
 * networking (https://docs.aws.amazon.com/eks/latest/userguide/auto-cluster-iam-role.html).
 */
export const CLUSTER_MANAGED_POLICIES: readonly string[] = [
  "AmazonEKSClusterPolicy",
  "AmazonEKSVPCResourceController",
  "AmazonEKSComputePolicy",
  "AmazonEKSBlockStoragePolicy",
  "AmazonEKSLoadBalancingPolicy",
  "AmazonEKSNetworkingPolicy",
];

/** Actions a workload purpose may be allowed, on queues of this stack only; node and cluster roles get no documents. */
export function allowedActions(purpose: Purpose): readonly string[] | undefined {
  if (purpose === "consumer") return CONSUMER_ACTIONS;
  if (purpose === "scaler") return SCALER_ACTIONS;
  return undefined;
}

/**
 * Actions that read a queue's metadata and never touch its messages (SQS API reference: GetQueueAttributes
 * returns counts and settings, GetQueueUrl an address, ListQueueTags tags).
 */
export const METADATA_READS: readonly string[] = ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"];

export interface DocumentVerdict {
  readonly problems: readonly string[];
  /** URNs of the stack's queues the document's Allow statements name with an action on messages. */
  readonly queues: readonly string[];
  /** URNs of the stack's queues named only by statements that read metadata (METADATA_READS). */
  readonly metadataQueues: readonly string[];
}

const SHOWN = 4;

function listed(values: readonly string[]): string {
  const shown = values
    .slice(0, SHOWN)
    .map((v) => `"${v}"`)
    .join(", ");
  return values.length > SHOWN ? `${shown} and ${values.length - SHOWN} more` : shown;
}

/** Judges one permissions document reaching a role of `purpose` (consumer or scaler). */
export async function judgeDocument(
  document: unknown,
  purpose: Purpose,
  queues: readonly StackResource[],
): Promise<DocumentVerdict> {
  const parsed = parsePolicyDocument(document);
  if (!parsed.ok)
    return {
      problems: [`${parsed.reason}, so what it allows cannot be checked; pass the policy as a JSON document`],
      queues: [],
      metadataQueues: [],
    };
  const allowed = allowedActions(purpose);
  if (allowed === undefined) {
    return {
      problems: [
        `grants permissions to a ${purpose} role, which may only carry the AWS managed policies docs/POLICY.md lists`,
      ],
      queues: [],
      metadataQueues: [],
    };
  }
  const problems: string[] = [];
  const named = new Set<string>();
  const metadataOnly = new Set<string>();
  for (const statement of parsed.value.filter((s) => s.effect === "Allow")) {
    const label = statementLabel(statement);
    let messageAccess = statement.hasNotAction || statement.actions.length === 0;
    if (statement.hasNotAction)
      problems.push(
        `${label} allows NotAction, which grants every action not listed; list the allowed actions instead`,
      );
    for (const pattern of statement.actions) {
      const granted = await actionsGrantedBy(pattern);
      if (granted === "unbounded" || granted.some((action) => !isAllowedAction(action, METADATA_READS)))
        messageAccess = true;
      if (granted === "unbounded") {
        problems.push(
          `${label} allows "${pattern}", which grants actions of every service; a ${purpose} role may only use ${allowed.join(", ")}`,
        );
        continue;
      }
      const outside = granted.filter((action) => !isAllowedAction(action, allowed));
      if (outside.length > 0) {
        const via = hasWildcard(pattern) ? `"${pattern}", which grants ${listed(outside)}` : `"${pattern}"`;
        problems.push(`${label} allows ${via}; a ${purpose} role may only use ${allowed.join(", ")}`);
      }
    }
    if (statement.hasNotResource)
      problems.push(
        `${label} allows NotResource, which grants every resource not listed; name the queue's ARN instead`,
      );
    if (!statement.hasNotResource && statement.resources.length === 0) problems.push(`${label} names no Resource`);
    for (const resource of statement.resources) {
      if (hasWildcard(resource)) {
        problems.push(`${label} allows wildcard resource "${resource}"; name the exact ARN of the queue`);
        continue;
      }
      const queue = queues.find((q) => designatesQueue(q, resource));
      if (queue === undefined)
        problems.push(`${label} allows resource "${resource}", which is not a queue of this stack`);
      else (messageAccess ? named : metadataOnly).add(queue.urn);
    }
  }
  return { problems, queues: [...named], metadataQueues: [...metadataOnly].filter((q) => !named.has(q)) };
}
