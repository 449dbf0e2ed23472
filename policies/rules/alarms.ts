/** Alarms: a queue that dead-letters must tell someone when its dead-letter queue fills. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { ofType, type StackResource } from "../lib/stack";
import { AWS } from "../lib/types";
import { listOf, parseJsonObject, recordOf, stringOf } from "../lib/values";

/** The CloudWatch alarm resource type of the AWS provider. */
export const METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";

/**
 * Whether `alarm` fires as soon as `dlqName` holds a visible message, and notifies someone. CloudWatch
 * matches the exact set of dimensions and, if the alarm names one, the unit: SQS publishes the metric with
 * only `QueueName`, in `Count`, so an extra dimension or another unit means no data and no alarm. The
 * threshold must also hold while the DLQ is empty, or the alarm stays in ALARM and never reports a new message.
 * Source: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
 */
function watchesDlq(alarm: StackResource, dlqName: string): boolean {
  const p = alarm.props;
  if (stringOf(p["namespace"]) !== "AWS/SQS" || stringOf(p["metricName"]) !== "ApproximateNumberOfMessagesVisible")
    return false;
  const dimensions = recordOf(p["dimensions"]);
  if (Object.keys(dimensions).length !== 1 || stringOf(dimensions["QueueName"]) !== dlqName) return false;
  const unit = stringOf(p["unit"]);
  if (unit !== undefined && unit !== "Count") return false;
  const threshold = typeof p["threshold"] === "number" ? p["threshold"] : Number.NaN;
  const operator = stringOf(p["comparisonOperator"]);
  const firesOnOne =
    (operator === "GreaterThanThreshold" && threshold >= 0 && threshold < 1) ||
    (operator === "GreaterThanOrEqualToThreshold" && threshold > 0 && threshold <= 1);
  return firesOnOne && listOf(p["alarmActions"]).length > 0 && p["actionsEnabled"] !== false;
}

/** The DLQ names the stack's redrive policies (inline or as RedrivePolicy resources) point at, with who set each. */
function deadLetterTargets(resources: readonly StackResource[]): { dlqName: string; urn: string; source: string }[] {
  const documents = [
    ...ofType(resources, AWS.queue).map((q) => ({
      document: q.props["redrivePolicy"] as unknown,
      urn: q.urn,
      source: q.name,
    })),
    ...ofType(resources, AWS.queueRedrivePolicy).map((r) => ({
      document: r.props["redrivePolicy"] as unknown,
      urn: r.urn,
      source: r.name,
    })),
  ];
  return documents.flatMap(({ document, urn, source }) => {
    if (document === undefined || document === "") return [];
    const parsed = parseJsonObject(document);
    const arn = parsed.ok ? stringOf(parsed.value["deadLetterTargetArn"]) : undefined;
    // A malformed or unknown target is queue-redrive-policy's finding, not this rule's.
    const dlqName = arn?.split(":").pop();
    return dlqName ? [{ dlqName, urn, source }] : [];
  });
}

export const dlqAlarmed: StackValidationPolicy = {
  name: "dlq-alarmed",
  description:
    "Every queue with a redrive policy has a CloudWatch alarm, with an action, on its dead-letter queue's visible messages (> 0, dimension QueueName only, unit Count or none).",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const alarms = ofType(args.resources, METRIC_ALARM);
    for (const { dlqName, urn, source } of deadLetterTargets(args.resources)) {
      if (alarms.some((a) => watchesDlq(a, dlqName))) continue;
      reportViolation(
        `"${source}" dead-letters into "${dlqName}", but no CloudWatch alarm with an action fires when it holds a message; add a MetricAlarm on AWS/SQS ApproximateNumberOfMessagesVisible (QueueName=${dlqName}) > 0 with alarmActions.`,
        urn,
      );
    }
  },
};
