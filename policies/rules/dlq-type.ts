/**
 * SQS: a dead-letter queue is of its source queue's type. SQS requires a FIFO queue's dead-letter queue
 * to be FIFO, and a standard queue's to be standard (SQS Developer Guide, "Using dead-letter queues in
 * Amazon SQS"); a mismatch fails at `pulumi up` when the redrive policy is set, after the queues exist.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { designatesQueue, ofType, type StackResource } from "../lib/stack";
import { AWS } from "../lib/types";
import { parseJsonObject, stringOf } from "../lib/values";

/**
 * A FIFO queue sets `fifoQueue`, and SQS requires its name to end in `.fifo`. The flag decides when it is
 * set either way (a `.fifo` name with `fifoQueue: false` is no FIFO queue: SQS creates none); the name
 * only when the flag is absent.
 */
export function isFifoQueue(queue: Pick<StackResource, "props">): boolean {
  const flag: unknown = queue.props["fifoQueue"];
  if (flag === true || flag === "true") return true;
  if (flag === false || flag === "false") return false;
  return (stringOf(queue.props["name"]) ?? "").endsWith(".fifo");
}

/** Each source queue with the queue its redrive policy names, from the queue's own `redrivePolicy` or a RedrivePolicy resource. */
function redriveTargets(resources: readonly StackResource[]): { source: StackResource; target: StackResource }[] {
  const queues = ofType(resources, AWS.queue);
  const documents: { source: StackResource; document: unknown }[] = queues.map((source) => ({
    source,
    document: source.props["redrivePolicy"] as unknown,
  }));
  for (const policy of ofType(resources, AWS.queueRedrivePolicy)) {
    const source = queues.find((q) => designatesQueue(q, policy.props["queueUrl"]));
    if (source !== undefined) documents.push({ source, document: policy.props["redrivePolicy"] });
  }
  const pairs: { source: StackResource; target: StackResource }[] = [];
  for (const { source, document } of documents) {
    if (document === undefined || document === "") continue;
    const parsed = parseJsonObject(document);
    // An unreadable policy or an unknown target is queue-redrive-policy's to report.
    if (!parsed.ok) continue;
    const target = queues.find((q) => designatesQueue(q, parsed.value["deadLetterTargetArn"]));
    if (target !== undefined) pairs.push({ source, target });
  }
  return pairs;
}

export const dlqTypeMatchesSource: StackValidationPolicy = {
  name: "dlq-type-matches-source",
  description: "A FIFO queue's dead-letter queue is FIFO, and a standard queue's is standard, as SQS requires.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    for (const { source, target } of redriveTargets(args.resources)) {
      const fifo = isFifoQueue(source);
      if (isFifoQueue(target) === fifo) continue;
      const [sourceType, targetType] = fifo ? ["FIFO", "standard"] : ["standard", "FIFO"];
      const fix = fifo
        ? `set fifoQueue: true on "${target.name}" and end its name in .fifo`
        : `use a standard queue (no fifoQueue, no .fifo name) as "${source.name}"'s dead-letter queue`;
      reportViolation(
        `Queue "${source.name}" is a ${sourceType} queue but its dead-letter queue "${target.name}" is ${targetType}; SQS rejects that redrive policy: ${fix}.`,
        source.urn,
      );
    }
  },
};
