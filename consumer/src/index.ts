// The consumer as a library: start it with your own handler, or read the shared settings schema.
export { runAsProcess, startConsumer, EXIT_INVALID_CONFIG, type RunningConsumer, type StartOptions } from "./app";
export { Consumer } from "./consumer";
export { createLogHandler, type HandlerContext, type MessageHandler, type ReceivedMessage } from "./handler";
export { createLogger } from "./logger";
export { HandlerTimeoutError } from "./processing";
export * from "./settings";
export { createSqsClient } from "./sqs-client";
