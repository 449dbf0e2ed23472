/**
 * What pages someone: CloudWatch alarms on the queue and its dead-letter queue, published to an SNS topic
 * encrypted with a customer-managed KMS key (CloudWatch cannot publish to a topic encrypted with the
 * AWS-managed `aws/sns` key, whose policy it cannot be granted), with optional email subscriptions.
 * Sources: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html,
 * https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services,
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SQS_MAX_VISIBILITY_SECONDS, queueVisibilityTimeoutSeconds, type Tunables } from "../consumer/src/contract";
import type { AlarmsConfig, QueueConfig } from "./config";
import type { PolicyDocument } from "./iam-documents";
import { NAME_LIMITS, scopedName, type NameScope } from "./names";

/** Time a backlog may take to drain before old messages are news (s). */
const BACKLOG_ALLOWANCE_SECONDS = 300;
/** One alarm period (s): the threshold stays this far below the queue's retention, where the metric can still reach it. */
const RETENTION_HEADROOM_SECONDS = 60;

/**
 * The oldest-message age (s) above which messages are waiting on the consumer rather than being retried:
 * a message that keeps failing is delivered up to `maxReceiveCount` times, each time hidden for the queue's
 * visibility timeout (handler timeout plus margin) or the retry delay (at most `retryMaxSeconds`), so it
 * may legitimately age that long before it reaches the DLQ; five more minutes allow for a backlog.
 * Capped a minute below `messageRetentionSeconds` (the queue's, 60 to 1,209,600 s): SQS deletes a message
 * that old, so ApproximateAgeOfOldestMessage never exceeds it and a higher threshold could never fire;
 * at the cap the alarm says messages are about to be lost. At least 1 s.
 */
export function oldestMessageAgeThresholdSeconds(
  tunables: Pick<Tunables, "handlerTimeoutSeconds" | "retryMaxSeconds">,
  maxReceiveCount: number,
  messageRetentionSeconds: number,
): number {
  const perDelivery = Math.min(
    Math.max(queueVisibilityTimeoutSeconds(tunables), tunables.retryMaxSeconds),
    SQS_MAX_VISIBILITY_SECONDS,
  );
  return Math.max(
    1,
    Math.min(
      maxReceiveCount * perDelivery + BACKLOG_ALLOWANCE_SECONDS,
      messageRetentionSeconds - RETENTION_HEADROOM_SECONDS,
    ),
  );
}

/** The queues the alarms watch (a ConsumerQueue). */
export interface WatchedQueues {
  /** The queue's name (the `QueueName` dimension). */
  readonly queueName: string;
  /** The dead-letter queue's name. */
  readonly deadLetterQueueName: string;
  /** The queue's ARN: its account owns the key and the topic. */
  readonly arn: pulumi.Input<string>;
}

export interface ConsumerAlarmsArgs {
  /** Project and stack: the alarms and the topic are named `<project>-<stack>-<alarm>` and `<project>-<stack>-alarms`. */
  readonly scope: NameScope;
  /** The queue and its dead-letter queue. */
  readonly queues: WatchedQueues;
  /** Region of the queue and the alarms. */
  readonly region: string;
  /**
   * Email addresses subscribed to the topic (each confirms by mail), the oldest-message age that raises the
   * alarm (s; undefined: `oldestMessageAgeThresholdSeconds` of `delivery`), and the minutes at the most
   * replicas before the replica-ceiling alarm fires (infra/config/observability.ts).
   */
  readonly settings: AlarmsConfig;
  /** How long a message may legitimately age: the consumer's handler timeout and retry delay, the queue's receives and retention. */
  readonly delivery: {
    readonly tunables: Pick<Tunables, "handlerTimeoutSeconds" | "retryMaxSeconds">;
    readonly queue: Pick<QueueConfig, "maxReceiveCount" | "messageRetentionSeconds">;
  };
  /**
   * With autoscaling on, an alarm when the consumer sits at `maxReplicas` (Container Insights' running pods
   * of the namespace, which runs only the consumer); none when it is off.
   */
  readonly replicas: {
    readonly autoscaling: { readonly enabled: false } | { readonly enabled: true; readonly maxReplicas: number };
    /** The EKS cluster's name (the `ClusterName` dimension). */
    readonly clusterName: pulumi.Input<string>;
    /** The consumer's namespace (the `Namespace` dimension). */
    readonly namespace: pulumi.Input<string>;
  };
  readonly tags: Record<string, string>;
}

/** The alarms of one stack; `alarmNames` lists what was created, `topicArn` where they publish. */
export class ConsumerAlarms extends pulumi.ComponentResource {
  readonly topicArn: pulumi.Output<string>;
  readonly alarmNames: pulumi.Output<string>[];

  constructor(name: string, args: ConsumerAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("sqs-eks-consumer:alarms:ConsumerAlarms", name, {}, opts);
    const namePrefix = scopedName(args.scope, "", NAME_LIMITS.sqsQueue);
    const { queues, settings, delivery } = args;
    const oldestMessageAgeSeconds =
      settings.messageAgeSeconds ??
      oldestMessageAgeThresholdSeconds(
        delivery.tunables,
        delivery.queue.maxReceiveCount,
        delivery.queue.messageRetentionSeconds,
      );
    const owner = pulumi
      .output(queues.arn)
      .apply((arn) => ({ partition: arn.split(":")[1] ?? "aws", account: arn.split(":")[4] ?? "" }));

    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: `Encrypts the ${namePrefix} alarm topic`,
        enableKeyRotation: true,
        deletionWindowInDays: 7,
        policy: pulumi.jsonStringify(owner.apply(({ partition, account }) => alarmTopicKeyPolicy(partition, account))),
        tags: args.tags,
      },
      { parent: this },
    );
    const topic = new aws.sns.Topic(
      `${name}-topic`,
      { name: `${namePrefix}-alarms`, kmsMasterKeyId: key.arn, tags: args.tags },
      { parent: this },
    );
    new aws.sns.TopicPolicy(
      `${name}-topic-policy`,
      {
        arn: topic.arn,
        policy: pulumi.jsonStringify(
          pulumi
            .all([topic.arn, owner])
            .apply(([topicArn, { partition, account }]) => alarmTopicPolicy(topicArn, partition, account, args.region)),
        ),
      },
      { parent: this },
    );
    settings.emails.forEach(
      (email, i) =>
        new aws.sns.TopicSubscription(
          `${name}-email-${i}`,
          { topic: topic.arn, protocol: "email", endpoint: email },
          { parent: this },
        ),
    );

    const actions = { alarmActions: [topic.arn], okActions: [topic.arn] };
    const sqsAlarm = (
      role: string,
      description: string,
      alarm: Partial<aws.cloudwatch.MetricAlarmArgs>,
    ): aws.cloudwatch.MetricAlarm =>
      new aws.cloudwatch.MetricAlarm(
        `${name}-${role}`,
        {
          name: `${namePrefix}-${role}`,
          alarmDescription: description,
          namespace: "AWS/SQS",
          statistic: "Maximum",
          period: 60,
          evaluationPeriods: 1,
          treatMissingData: "notBreaching",
          ...actions,
          tags: args.tags,
          ...alarm,
        },
        { parent: this },
      );
    const alarms = [
      sqsAlarm(
        "dlq-messages",
        "Messages reached the dead-letter queue: they were received maxReceiveCount times without being deleted (on a FIFO queue, group-mates of a failing message come along unhandled). Fix the cause, then `npm run redrive`.",
        {
          metricName: "ApproximateNumberOfMessagesVisible",
          dimensions: { QueueName: queues.deadLetterQueueName },
          comparisonOperator: "GreaterThanThreshold",
          threshold: 0,
        },
      ),
      sqsAlarm(
        "oldest-message-age",
        `The queue's oldest message has waited over ${oldestMessageAgeSeconds} s: the consumer is down, stuck or too slow.`,
        {
          metricName: "ApproximateAgeOfOldestMessage",
          dimensions: { QueueName: queues.queueName },
          comparisonOperator: "GreaterThanThreshold",
          threshold: oldestMessageAgeSeconds,
        },
      ),
    ];
    const { autoscaling, clusterName, namespace } = args.replicas;
    if (autoscaling.enabled) {
      const ceiling = { maxReplicas: autoscaling.maxReplicas, sustainedMinutes: settings.maxReplicasMinutes };
      alarms.push(
        new aws.cloudwatch.MetricAlarm(
          `${name}-max-replicas`,
          {
            name: `${namePrefix}-max-replicas`,
            alarmDescription: `The consumer has run at its most replicas (${ceiling.maxReplicas}) for ${ceiling.sustainedMinutes} minutes: it cannot scale further, so a backlog will grow.`,
            // Container Insights: running pods per namespace. Source: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-EKS.html
            namespace: "ContainerInsights",
            metricName: "namespace_number_of_running_pods",
            dimensions: { ClusterName: clusterName, Namespace: namespace },
            statistic: "Minimum",
            period: 60,
            evaluationPeriods: ceiling.sustainedMinutes,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: ceiling.maxReplicas,
            treatMissingData: "notBreaching",
            ...actions,
            tags: args.tags,
          },
          { parent: this },
        ),
      );
    }
    this.topicArn = topic.arn;
    this.alarmNames = alarms.map((a) => a.name);
    this.registerOutputs({ topicArn: this.topicArn, alarmNames: this.alarmNames });
  }
}

/** The key's policy: the account administers it; CloudWatch of this account may use it to publish. */
export function alarmTopicKeyPolicy(partition: string, account: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountAdministers",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${account}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "CloudWatchPublishes",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        Resource: "*",
        Condition: { StringEquals: { "aws:SourceAccount": account } },
      },
    ],
  };
}

/** The topic's policy: only this account's CloudWatch alarms in this region may publish; everything else needs TLS. */
export function alarmTopicPolicy(topicArn: string, partition: string, account: string, region: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "CloudWatchAlarmsPublish",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: "sns:Publish",
        Resource: topicArn,
        Condition: {
          ArnLike: { "aws:SourceArn": `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
          StringEquals: { "aws:SourceAccount": account },
        },
      },
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "sns:*",
        Resource: topicArn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}
