/**
 * The consumer as a library: start it with your own handler, or read the shared settings schema.
 *
 * What is inside, one concept per file:
 * - Process and wiring: main.ts (the image's entrypoint), app.ts (`startConsumer`, `runAsProcess`, exit
 *   codes, start-up checks with queue-info.ts), settings.ts (the schema), build-info.ts, logger.ts, text.ts.
 * - AWS access: sqs-client.ts, credential-chain.ts, credentials.ts, deadlines.ts (every call's deadline),
 *   receive-throttling.ts (a throttled FIFO receive is not retried with its voided attempt id),
 *   errors.ts (error kinds and hints), backoff.ts (backoff, retry delays).
 * - The consumer, consumer.ts (composition, graceful stop), in the order a message meets it:
 *   receive-loop.ts (long polls) -> dispatch.ts (checksums.ts; duplicate deliveries; FIFO order with
 *   message-groups.ts and receive-attempts.ts) -> processing.ts (handler.ts under its hard limit, with
 *   invocations.ts, capacity.ts, tracing.ts) -> settlement.ts (deletes by acknowledger.ts, redelivery and
 *   release by visibility.ts, which also runs the heartbeat). in-flight.ts is what it holds meanwhile.
 * - Health and telemetry: readiness.ts, health-server.ts, metrics.ts, tracing-config.ts, tracing-sdk.ts.
 * - contract/: what the infrastructure may know of the consumer (its own index).
 */
export { runAsProcess, startConsumer, EXIT_INVALID_CONFIG, type RunningConsumer, type StartOptions } from "./app";
export { Consumer } from "./consumer";
export { createLogHandler, type HandlerContext, type MessageHandler, type ReceivedMessage } from "./handler";
export { createLogger } from "./logger";
export { HandlerTimeoutError } from "./processing";
export * from "./settings";
export { createSqsClient } from "./sqs-client";
