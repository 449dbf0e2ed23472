/**
 * The consumer as a library: start it with your own handler (`runAsProcess({ handler })`, or
 * `{ batchHandler }`), or read the shared settings schema. consumer/handler.ts is the handler the image and
 * `npm start` run.
 *
 * A message from receive to delete, one module per step, all sharing one ConsumerContext (consumer.ts):
 *
 *   receive.ts    long polls for as many messages as there are free handler slots and room in the
 *       |         memory budget; FIFO attempt ids
 *       v
 *   dispatch.ts   holds each message, or refuses it (checksum, duplicate); keeps FIFO order per group;
 *       |    ^    starts its run in handle.ts and, when the run ends, settles its Outcome in settle.ts
 *       v    |
 *   handle.ts     the handler under its hard limit, in a handler slot (Capacity, Invocations); returns
 *                 an Outcome (or a BatchOutcome) to dispatch.ts
 *   settle.ts     called by dispatch.ts: SQS's two operations, delete a handled message, change
 *                 visibility for a reason that decides when it is visible again (failed, refused,
 *                 group, shutdown; the heartbeat)
 *
 * Around them, every other file of this folder:
 * - consumer.ts: the context, the composition, and the graceful stop.
 * - app.ts: the process: wiring, start-up checks, signals, exit codes; main.ts, the image's entrypoint.
 * - handler.ts: the handler contract (the public API: a message handler or a Lambda-style batch handler)
 *   and the default log handler; handler-exports.mts checks what a handler file exports; batch.ts makes
 *   a batch's Lambda event, reads its answer, and gathers batches (BATCH_SIZE, BATCH_WINDOW_SECONDS);
 *   testing.ts helps test a handler without a queue (consumer/handler.test.ts).
 * - settings.ts: the settings schema, shared with the infrastructure through contract/ (its own index:
 *   settings warnings, the memory and heap rules, the permissions the consumer needs).
 * - memory.ts: the memory budget in bytes that bounds what receives ask for and what is held.
 * - sqs-client.ts: the SQS client, every call's deadline, the credential chain, backoff.
 * - proxy.ts: HTTPS_PROXY, HTTP_PROXY and NO_PROXY, read once and handed to Node's HTTP agents.
 * - clock-skew.ts: a local clock skewed from AWS's, detected and reported.
 * - event-loop.ts: event-loop stalls (a CPU-bound handler), reported.
 * - errors.ts: every error class (one base, one code style), error kinds, and the hints table.
 * - health.ts (/readyz, /livez, /metrics), metrics.ts, logger.ts.
 * - tracing.ts (spans), tracing-config.ts (OTEL_* variables), tracing-sdk.ts (loaded only when tracing is on).
 * - image-context.mts: what the image's build stage has when it runs consumer/build.mjs (build time only).
 * - index.ts: this file, the library's exports.
 */
export {
  runAsProcess,
  startConsumer,
  EXIT_INVALID_CONFIG,
  type ProcessOptions,
  type RunningConsumer,
  type StartOptions,
} from "./app";
export { Consumer } from "./consumer";
export { ConsumerError, HandlerTimeoutError } from "./errors";
export {
  createLogHandler,
  logMessage,
  type BatchHandler,
  type BatchHandlerContext,
  type Handler,
  type HandlerContext,
  type MessageAttribute,
  type MessageHandler,
  type ReceivedMessage,
  type SQSBatchItemFailure,
  type SQSBatchResponse,
  type SQSEvent,
  type SQSMessageAttribute,
  type SQSRecord,
  type SQSRecordAttributes,
} from "./handler";
export { createLogger } from "./logger";
export * from "./settings";
export { createSqsClient } from "./sqs-client";
