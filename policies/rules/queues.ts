/** SQS: encryption at rest, TLS-only access, and dead-letter queues that keep what they receive. */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { configWithDefaults } from "../lib/config";
import { parsePolicyDocument } from "../lib/iam-document";
import { ofType, refersTo, type StackResource } from "../lib/stack";
import { AWS } from "../lib/types";
import { integerOf, isRecord, listOf, parseJsonObject, recordOf, stringOf, stringsOf } from "../lib/values";

/** SQS's retention when `messageRetentionSeconds` is not set: 4 days. */
export const DEFAULT_RETENTION_SECONDS = 345_600;
const MAX_RECEIVE_COUNT_RANGE = { min: 1, max: 1000 } as const;

export const queueEncrypted: ResourceValidationPolicy = {
  name: "queue-encrypted",
  description: "Every SQS queue is encrypted at rest, with SQS-managed keys or a KMS key.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      requireCustomerManagedKey: {
        type: "boolean",
        default: false,
        description: "Require a KMS key of your own (`kmsMasterKeyId`, not alias/aws/sqs) instead of SQS-managed encryption.",
      },
    },
  },
  validateResource: (args, reportViolation) => {
    if (args.type !== AWS.queue) return;
    const { requireCustomerManagedKey } = configWithDefaults(args, { requireCustomerManagedKey: false });
    const kmsKey = stringOf(args.props["kmsMasterKeyId"]) ?? "";
    if (requireCustomerManagedKey) {
      if (kmsKey === "" || kmsKey === "alias/aws/sqs") {
        reportViolation(
          `Queue "${args.name}" is not encrypted with a customer managed KMS key, which this pack's configuration (requireCustomerManagedKey) requires; set kmsMasterKeyId to your key's ARN or alias.`,
        );
      }
    } else if (args.props["sqsManagedSseEnabled"] !== true && kmsKey === "") {
      reportViolation(`Queue "${args.name}" is not encrypted at rest; set sqsManagedSseEnabled: true, or kmsMasterKeyId to a KMS key.`);
    }
  },
};

/** Whether `ref` (an ARN or URL) names `queue`. Besides ids, accept an ARN or URL ending in the queue's name. */
export function designatesQueue(queue: Pick<StackResource, "props">, ref: unknown): boolean {
  if (refersTo(queue, ref)) return true;
  const name = stringOf(queue.props["name"]);
  if (typeof ref !== "string" || name === undefined || name === "") return false;
  return (ref.startsWith("arn:") && ref.endsWith(`:${name}`)) || (ref.startsWith("https://") && ref.endsWith(`/${name}`));
}

/** A source queue's redrive policy, from the queue's `redrivePolicy` or a separate RedrivePolicy resource. */
interface Redrive {
  readonly source: StackResource;
  readonly document: unknown;
  /** Where a problem with the document is reported. */
  readonly urn: string;
}

function redrivesOf(resources: readonly StackResource[]): Redrive[] {
  const queues = ofType(resources, AWS.queue);
  const redrives: Redrive[] = [];
  for (const queue of queues) {
    const document: unknown = queue.props["redrivePolicy"];
    if (document !== undefined && document !== "") redrives.push({ source: queue, document, urn: queue.urn });
  }
  for (const policy of ofType(resources, AWS.queueRedrivePolicy)) {
    const source = queues.find((q) => designatesQueue(q, policy.props["queueUrl"]));
    if (source !== undefined) redrives.push({ source, document: policy.props["redrivePolicy"], urn: policy.urn });
  }
  return redrives;
}

type ParsedRedrive = { readonly ok: true; readonly target: StackResource } | { readonly ok: false; readonly problem: string };

function parseRedrive(redrive: Redrive, queues: readonly StackResource[]): ParsedRedrive {
  const parsed = parseJsonObject(redrive.document);
  if (!parsed.ok) return { ok: false, problem: `redrivePolicy ${parsed.reason}` };
  const targetArn = stringOf(parsed.value["deadLetterTargetArn"]);
  if (targetArn === undefined || targetArn === "") return { ok: false, problem: "redrivePolicy has no deadLetterTargetArn" };
  const maxReceiveCount = integerOf(parsed.value["maxReceiveCount"]);
  if (maxReceiveCount === undefined || maxReceiveCount < MAX_RECEIVE_COUNT_RANGE.min || maxReceiveCount > MAX_RECEIVE_COUNT_RANGE.max) {
    return {
      ok: false,
      problem: `redrivePolicy's maxReceiveCount must be a whole number from ${MAX_RECEIVE_COUNT_RANGE.min} to ${MAX_RECEIVE_COUNT_RANGE.max}`,
    };
  }
  const target = queues.find((q) => designatesQueue(q, targetArn));
  if (target === undefined) {
    return {
      ok: false,
      problem: `redrivePolicy's deadLetterTargetArn ${targetArn} is not a queue in this stack, so the dead-letter queue's encryption and retention cannot be checked; create the DLQ in this stack`,
    };
  }
  return { ok: true, target };
}

/** Queues that declare themselves dead-letter queues by allowing sources to redrive into them. */
function declaredDeadLetterQueues(resources: readonly StackResource[]): StackResource[] {
  const queues = ofType(resources, AWS.queue);
  const declared = queues.filter((q) => {
    const allow: unknown = q.props["redriveAllowPolicy"];
    return allow !== undefined && allow !== "";
  });
  for (const policy of ofType(resources, AWS.queueRedriveAllowPolicy)) {
    declared.push(...queues.filter((q) => designatesQueue(q, policy.props["queueUrl"])));
  }
  return declared;
}

export const queueRedrivePolicy: StackValidationPolicy = {
  name: "queue-redrive-policy",
  description:
    "Every queue that is not a dead-letter queue has a valid redrive policy to a dead-letter queue in the same stack.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const queues = ofType(args.resources, AWS.queue);
    // A DLQ is a queue some redrive policy in the stack points at, or one that declares a redriveAllowPolicy.
    const deadLetterQueues = new Set<string>(declaredDeadLetterQueues(args.resources).map((q) => q.urn));
    const sources = new Set<string>();
    for (const redrive of redrivesOf(args.resources)) {
      sources.add(redrive.source.urn);
      const parsed = parseRedrive(redrive, queues);
      if (parsed.ok) deadLetterQueues.add(parsed.target.urn);
      else reportViolation(`Queue "${redrive.source.name}": ${parsed.problem}.`, redrive.urn);
    }
    for (const queue of queues) {
      if (sources.has(queue.urn) || deadLetterQueues.has(queue.urn)) continue;
      reportViolation(
        `Queue "${queue.name}" has no redrive policy and no queue in this stack uses it as a dead-letter queue; set redrivePolicy to {"deadLetterTargetArn": <DLQ ARN>, "maxReceiveCount": <n>} so failing messages leave the queue.`,
        queue.urn,
      );
    }
  },
};

function retentionOf(queue: StackResource): number {
  return integerOf(queue.props["messageRetentionSeconds"]) ?? DEFAULT_RETENTION_SECONDS;
}

export const dlqRetentionCoversSource: StackValidationPolicy = {
  name: "dlq-retention-covers-source",
  description: "A dead-letter queue keeps messages at least as long as each queue that redrives into it.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const queues = ofType(args.resources, AWS.queue);
    for (const redrive of redrivesOf(args.resources)) {
      const parsed = parseRedrive(redrive, queues);
      if (!parsed.ok) continue; // queue-redrive-policy reports it
      const sourceRetention = retentionOf(redrive.source);
      const targetRetention = retentionOf(parsed.target);
      if (targetRetention < sourceRetention) {
        reportViolation(
          `Queue "${parsed.target.name}" keeps messages ${targetRetention} s, less than the ${sourceRetention} s of its source queue "${redrive.source.name}"; set its messageRetentionSeconds to at least ${sourceRetention}, because a message's age in the DLQ counts from its first enqueue and a shorter retention drops failed messages early.`,
          parsed.target.urn,
        );
      }
    }
  },
};

function isFalse(value: unknown): boolean {
  return value === false || value === "false";
}

/** Whether a queue policy statement denies every SQS action to everyone over plain HTTP. */
function deniesInsecureTransport(document: unknown): boolean {
  const parsed = parsePolicyDocument(document);
  if (!parsed.ok) return false;
  return parsed.value.some((statement) => {
    if (statement.effect !== "Deny") return false;
    const principal = statement.principal;
    const everyone = principal === "*" || (isRecord(principal) && stringsOf(principal["AWS"]).includes("*"));
    const allActions = statement.actions.some((a) => a === "*" || a.toLowerCase() === "sqs:*");
    const bool = recordOf(statement.condition["Bool"]);
    const secureTransport = Object.entries(bool).find(([key]) => key.toLowerCase() === "aws:securetransport")?.[1];
    return everyone && allActions && listOf(secureTransport).some(isFalse);
  });
}

export const queueDeniesInsecureTransport: StackValidationPolicy = {
  name: "queue-denies-insecure-transport",
  description: "Every queue has a queue policy that denies all SQS actions over plain HTTP (aws:SecureTransport false).",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const policies = ofType(args.resources, AWS.queuePolicy);
    for (const queue of ofType(args.resources, AWS.queue)) {
      const own = policies.filter((p) => designatesQueue(queue, p.props["queueUrl"]));
      if (own.some((p) => deniesInsecureTransport(p.props["policy"]))) continue;
      reportViolation(
        `Queue "${queue.name}" has no queue policy that denies requests over plain HTTP; attach a QueuePolicy with a statement {"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}.`,
        queue.urn,
      );
    }
  },
};
