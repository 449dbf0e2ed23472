/** SQS: encryption at rest, TLS-only access, and dead-letter queues that keep what they receive. */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { configWithDefaults } from "../lib/config";
import {
  conditionKeys,
  conditionValues,
  parsePolicyDocument,
  statementLabel,
  wildcardMatches,
  type Statement,
} from "../lib/iam-document";
import { designatesQueue, ofType, type StackResource } from "../lib/stack";
import { Decisions } from "../lib/undecided";
import { AWS } from "../lib/types";
import { integerOf, materialize, parseJsonObject, stringOf } from "../lib/values";

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
        description:
          "Require a KMS key of your own (`kmsMasterKeyId`, not alias/aws/sqs) instead of SQS-managed encryption.",
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
      reportViolation(
        `Queue "${args.name}" is not encrypted at rest; set sqsManagedSseEnabled: true, or kmsMasterKeyId to a KMS key.`,
      );
    }
  },
};

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

type ParsedRedrive =
  { readonly ok: true; readonly target: StackResource } | { readonly ok: false; readonly problem: string };

function parseRedrive(redrive: Redrive, queues: readonly StackResource[]): ParsedRedrive {
  const parsed = parseJsonObject(redrive.document);
  if (!parsed.ok) return { ok: false, problem: `redrivePolicy ${parsed.reason}` };
  const targetArn = stringOf(parsed.value["deadLetterTargetArn"]);
  if (targetArn === undefined || targetArn === "")
    return { ok: false, problem: "redrivePolicy has no deadLetterTargetArn" };
  const maxReceiveCount = integerOf(parsed.value["maxReceiveCount"]);
  if (
    maxReceiveCount === undefined ||
    maxReceiveCount < MAX_RECEIVE_COUNT_RANGE.min ||
    maxReceiveCount > MAX_RECEIVE_COUNT_RANGE.max
  ) {
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

/** Every resource-based policy set on `queue`: its own `policy` and each QueuePolicy naming it. */
function queuePoliciesOf(
  queue: StackResource,
  resources: readonly StackResource[],
): { label: string; urn: string; document: unknown }[] {
  const found: { label: string; urn: string; document: unknown }[] = [];
  const own: unknown = queue.props["policy"];
  if (own !== undefined && own !== "")
    found.push({ label: `Queue "${queue.name}" .policy`, urn: queue.urn, document: own });
  for (const policy of ofType(resources, AWS.queuePolicy)) {
    if (designatesQueue(queue, policy.props["queueUrl"]))
      found.push({ label: `QueuePolicy "${policy.name}"`, urn: policy.urn, document: policy.props["policy"] });
  }
  return found;
}

const SECURE_TRANSPORT = "aws:securetransport";

/**
 * Whether a statement denies every SQS action on `queueArn` to everyone whenever the request is not
 * TLS, with nothing that narrows it: no NotPrincipal/NotAction/NotResource, Principal `*`, Action `*`
 * or `sqs:*`, a Resource covering the queue, and a condition on aws:SecureTransport alone.
 */
function isCompleteTlsDeny(statement: Statement, queueArn: string): boolean {
  if (statement.effect !== "Deny" || statement.hasNotPrincipal || statement.hasNotAction || statement.hasNotResource)
    return false;
  if (!statement.principals.some((p) => p.kind === "*")) return false;
  // A pattern that matches the text "sqs:*" and ends in a wildcard matches every SQS action.
  if (!statement.actions.some((a) => wildcardMatches(a, "sqs:*", true) && a.endsWith("*"))) return false;
  if (!statement.resources.some((r) => wildcardMatches(r, queueArn, false))) return false;
  const keys = conditionKeys(statement.condition);
  if (keys.length !== 1 || keys[0]?.key !== SECURE_TRANSPORT) return false;
  const operator = keys[0].operator;
  if (operator !== "Bool" && operator !== "BoolIfExists") return false;
  return (
    conditionValues(statement.condition, operator, SECURE_TRANSPORT).every((v) => v === "false") &&
    conditionValues(statement.condition, operator, SECURE_TRANSPORT).length > 0
  );
}

export const queueDeniesInsecureTransport: StackValidationPolicy = {
  name: "queue-denies-insecure-transport",
  description:
    "Every queue has exactly one resource policy (SQS keeps one per queue), and it denies every SQS action to every principal over plain HTTP, on the queue's ARN, with no other condition.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const decisions = new Decisions();
    for (const queue of ofType(args.resources, AWS.queue)) {
      decisions.decide(`Queue "${queue.name}" policy`, () => {
        const policies = queuePoliciesOf(queue, args.resources);
        if (policies.length > 1) {
          reportViolation(
            `Queue "${queue.name}" has ${policies.length} resource policies (${policies.map((p) => p.label).join(", ")}); SQS keeps one policy per queue, the last one applied, so the others are silently replaced; merge them into one QueuePolicy.`,
            queue.urn,
          );
          return;
        }
        const queueArn = stringOf(queue.props["arn"]) ?? "";
        const [policy] = policies;
        const parsed = policy === undefined ? undefined : parsePolicyDocument(materialize(policy.document));
        if (parsed?.ok === true && parsed.value.some((s) => isCompleteTlsDeny(s, queueArn))) return;
        const found =
          policy === undefined ? "has no queue policy" : `has a policy (${policy.label}) without a statement`;
        reportViolation(
          `Queue "${queue.name}" ${found} that denies every request over plain HTTP; use one statement {"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": <queue ARN>, "Condition": {"Bool": {"aws:SecureTransport": "false"}}} and no other condition in it.`,
          policy?.urn ?? queue.urn,
        );
      });
    }
    decisions.settle();
  },
};

export const queuePolicyGrantsNothing: StackValidationPolicy = {
  name: "queue-policy-grants-nothing",
  description:
    "No queue policy allows anything: access to queues is granted only through role policies, which role-least-privilege judges against each role's purpose.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const decisions = new Decisions();
    for (const queue of ofType(args.resources, AWS.queue)) {
      decisions.decide(`Queue "${queue.name}" policy`, () => {
        for (const policy of queuePoliciesOf(queue, args.resources)) {
          const parsed = parsePolicyDocument(materialize(policy.document));
          if (!parsed.ok) {
            reportViolation(
              `${policy.label} ${parsed.reason}, so what it allows cannot be checked; pass the policy as a JSON document.`,
              policy.urn,
            );
            continue;
          }
          for (const statement of parsed.value.filter((s) => s.effect !== "Deny")) {
            const who = statement.hasNotPrincipal
              ? "every principal but those listed (NotPrincipal)"
              : statement.principals.map((p) => (p.kind === "*" ? "everyone (*)" : p.value)).join(", ") ||
                "no principal";
            const what = statement.hasNotAction
              ? "every action but those listed (NotAction)"
              : statement.actions.join(", ") || "no action";
            reportViolation(
              `${policy.label} on queue "${queue.name}": ${statementLabel(statement)} allows ${who} to use ${what}; a queue policy here only denies, grant access through a role policy instead (role-least-privilege checks it).`,
              policy.urn,
            );
          }
        }
      });
    }
    decisions.settle();
  },
};
