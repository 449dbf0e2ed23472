/**
 * Names of the consumer's Prometheus metrics (consumer/src/metrics.ts) that the program's alert rules
 * read (infra/prometheus.ts). test/prometheus.integration.test.ts checks each against the real registry, so a
 * renamed metric fails a test instead of silencing an alert.
 */
export const METRIC_NAMES = {
  received: "sqs_consumer_messages_received_total",
  succeeded: "sqs_consumer_messages_succeeded_total",
  failed: "sqs_consumer_messages_failed_total",
  emptyReceives: "sqs_consumer_empty_receives_total",
  receiveDuration: "sqs_consumer_receive_duration_seconds",
  handlerDuration: "sqs_consumer_handler_duration_seconds",
  ready: "sqs_consumer_ready",
} as const;
