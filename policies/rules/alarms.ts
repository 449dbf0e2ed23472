/** Alarms: a queue that dead-letters must tell someone when its dead-letter queue fills. */
import type { StackValidationPolicy } from "@pulumi/policy";
import { configWithDefaults } from "../lib/config";
import { ofType, type StackResource } from "../lib/stack";
import { AWS } from "../lib/types";
import { listOf, parseJsonObject, recordOf, stringOf } from "../lib/values";

/** The CloudWatch alarm resource type of the AWS provider. */
export const METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";

/** The longest a DLQ alarm may take to fire once a message sits in the DLQ (s), unless configured. */
export const DEFAULT_MAX_ALARM_DELAY_SECONDS = 900;

/**
 * The value a statistic takes over one period when every datapoint reads `visible` messages. SQS publishes
 * its metrics once a minute, so a period holds `period / 60` datapoints: SampleCount counts them whatever
 * they read (so it is the same for an empty DLQ and a full one); the other statistics and the percentiles
 * read the datapoints themselves.
 */
function statisticValue(alarm: StackResource, visible: number): number | undefined {
  const statistic = stringOf(alarm.props["statistic"]);
  const extended = stringOf(alarm.props["extendedStatistic"]);
  const period = typeof alarm.props["period"] === "number" ? alarm.props["period"] : 60;
  if (statistic === undefined) return extended !== undefined && /^p\d/i.test(extended) ? visible : undefined;
  if (["Maximum", "Minimum", "Average", "Sum"].includes(statistic))
    return statistic === "Sum" ? visible * Math.max(1, Math.floor(period / 60)) : visible;
  if (statistic === "SampleCount") return Math.max(1, Math.floor(period / 60));
  return undefined;
}

function breaches(operator: string | undefined, threshold: number, value: number): boolean {
  switch (operator) {
    case "GreaterThanThreshold":
      return value > threshold;
    case "GreaterThanOrEqualToThreshold":
      return value >= threshold;
    case "LessThanThreshold":
      return value < threshold;
    case "LessThanOrEqualToThreshold":
      return value <= threshold;
    default:
      return false;
  }
}

/**
 * Why `alarm` does not tell someone, within `maxDelaySeconds`, that `dlqName` holds a message; undefined
 * when it does. CloudWatch matches the exact set of dimensions and, if the alarm names one, the unit: SQS
 * publishes the metric with only `QueueName`, in `Count`, so an extra dimension or another unit means no
 * data and no alarm. The alarm is judged by effect: the statistic's value with one message visible must
 * breach the threshold and its value with none must not (or the alarm stays in ALARM and never reports a
 * new message); missing data (an idle queue publishes none) must not count as breaching; enough
 * datapoints to alarm must arrive within `maxDelaySeconds`; and an enabled action must be set.
 * Source: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
 */
function dlqAlarmGap(alarm: StackResource, dlqName: string, maxDelaySeconds: number): string | undefined {
  const p = alarm.props;
  if (stringOf(p["namespace"]) !== "AWS/SQS" || stringOf(p["metricName"]) !== "ApproximateNumberOfMessagesVisible")
    return "watches another metric";
  const dimensions = recordOf(p["dimensions"]);
  if (Object.keys(dimensions).length !== 1 || stringOf(dimensions["QueueName"]) !== dlqName)
    return "watches other dimensions";
  const unit = stringOf(p["unit"]);
  if (unit !== undefined && unit !== "Count") return `names unit ${unit}, which SQS never publishes`;
  const threshold = typeof p["threshold"] === "number" ? p["threshold"] : Number.NaN;
  const operator = stringOf(p["comparisonOperator"]);
  const one = statisticValue(alarm, 1);
  const none = statisticValue(alarm, 0);
  if (one === undefined || none === undefined) return "uses a statistic whose value on one message cannot be told";
  if (!breaches(operator, threshold, one))
    return `does not breach ${operator ?? "(no operator)"} ${threshold} with one message visible`;
  if (breaches(operator, threshold, none)) return "breaches while the DLQ is empty, so it never reports a new message";
  if (stringOf(p["treatMissingData"]) === "breaching")
    return "treats missing data as breaching, so an idle DLQ keeps it in ALARM";
  const period = typeof p["period"] === "number" ? p["period"] : 60;
  const evaluationPeriods = typeof p["evaluationPeriods"] === "number" ? p["evaluationPeriods"] : 1;
  const datapoints = typeof p["datapointsToAlarm"] === "number" ? p["datapointsToAlarm"] : evaluationPeriods;
  if (datapoints * period > maxDelaySeconds)
    return `needs ${datapoints} breaching periods of ${period} s, more than ${maxDelaySeconds} s`;
  const actions = listOf(p["alarmActions"]).filter((a) => typeof a === "string" && a !== "");
  if (actions.length === 0 || p["actionsEnabled"] === false) return "has no enabled alarm action";
  return undefined;
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
    "Every queue with a redrive policy has a CloudWatch alarm, with an enabled action, that fires within maxDelaySeconds of one message reaching its dead-letter queue and not while it is empty (ApproximateNumberOfMessagesVisible, dimension QueueName only, unit Count or none).",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      maxDelaySeconds: {
        type: "integer",
        minimum: 60,
        default: DEFAULT_MAX_ALARM_DELAY_SECONDS,
        description: "The longest an alarm may take to fire once a message sits in the dead-letter queue (s).",
      },
    },
  },
  validateStack: (args, reportViolation) => {
    const { maxDelaySeconds } = configWithDefaults(args, { maxDelaySeconds: DEFAULT_MAX_ALARM_DELAY_SECONDS });
    const alarms = ofType(args.resources, METRIC_ALARM);
    for (const { dlqName, urn, source } of deadLetterTargets(args.resources)) {
      if (alarms.some((a) => dlqAlarmGap(a, dlqName, maxDelaySeconds) === undefined)) continue;
      reportViolation(
        `"${source}" dead-letters into "${dlqName}", but no CloudWatch alarm with an action fires when it holds a message; add a MetricAlarm on AWS/SQS ApproximateNumberOfMessagesVisible (QueueName=${dlqName}) > 0 with alarmActions.`,
        urn,
      );
    }
  },
};
