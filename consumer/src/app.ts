import type { SQSClient } from "@aws-sdk/client-sqs";
import { buildInfo } from "./build-info";
import { Consumer } from "./consumer";
import { summarizeCredentials } from "./credentials";
import { classifyAwsError, type HintContext } from "./errors";
import { createLogHandler, type MessageHandler } from "./handler";
import { startHealthServer } from "./health-server";
import { createLogger, logBanner, type Logger } from "./logger";
import { isFifoQueueUrl } from "./message-groups";
import { Metrics } from "./metrics";
import { describeQueue } from "./queue-info";
import { describeProblems, parseSettings, type EnvLike, type Settings } from "./settings";
import { createSqsClient } from "./sqs-client";
import { parseTracingConfig } from "./tracing-config";

/** sysexits.h EX_CONFIG: the configuration is wrong, restarting will not help. */
export const EXIT_INVALID_CONFIG = 78;

export interface StartOptions {
  readonly settings: Settings;
  readonly env: EnvLike;
  readonly logger: Logger;
  /** Defaults to the log handler: one info line per message. */
  readonly handler?: MessageHandler;
  /**
   * The SQS client to use, e.g. `createSqsClient(settings, env)` with your own middleware (tracing,
   * request counting). Defaults to that client without middleware. A client passed in is not destroyed on stop.
   * Build it with `md5: false` (createSqsClient does): the consumer verifies each message's digests itself.
   */
  readonly sqs?: SQSClient;
}

/** A started consumer with its health server. */
export interface RunningConsumer {
  readonly consumer: Consumer;
  readonly healthPort: number;
  stop(): Promise<void>;
}

/** Wires settings, SQS client, consumer, health server and start-up checks together, and starts them. */
export async function startConsumer({
  settings,
  env,
  logger,
  handler,
  sqs: givenSqs,
}: StartOptions): Promise<RunningConsumer> {
  const metrics = new Metrics();
  const sqs = givenSqs ?? createSqsClient(settings, env);
  const hints: HintContext = {
    queueUrl: settings.queueUrl,
    region: settings.region,
    roleArn: env.AWS_ROLE_ARN,
    tokenFile: env.AWS_WEB_IDENTITY_TOKEN_FILE,
    containerEndpoint: env.AWS_CONTAINER_CREDENTIALS_FULL_URI,
  };
  const consumer = new Consumer({
    settings,
    sqs,
    handler: handler ?? createLogHandler(settings.logBodyMaxChars),
    logger,
    metrics,
    hints,
  });
  const health = await startHealthServer(settings.healthPort, consumer.readiness, metrics, consumer.liveness);
  const { queueUrl, region, ...tunables } = settings;
  const queueType = consumer.fifo ? "fifo" : "standard";
  logger.info(
    { event: "config", queueUrl, queueType, region, ...tunables, healthPort: health.port },
    `consuming ${queueUrl} (${queueType} queue)`,
  );
  if (sqs.config.md5 !== false) {
    logger.warn(
      { event: "config" },
      "the SQS client checks MD5 per ReceiveMessage: one damaged message fails the whole batch; build it with createSqsClient (md5: false) so the consumer checks each message",
    );
  }
  const podRegion = env.AWS_REGION?.trim();
  if (podRegion && podRegion !== region) {
    logger.info(
      { event: "region", queueRegion: region, awsRegion: podRegion },
      `the queue is in ${region}, not AWS_REGION ${podRegion}: SQS requests are signed for ${region}, STS is asked in ${podRegion}`,
    );
  }
  consumer.start();
  void logStartupChecks(sqs, settings, env, hints, logger);
  return {
    consumer,
    healthPort: health.port,
    async stop() {
      await consumer.stop();
      await health.close();
      if (givenSqs === undefined) sqs.destroy();
    },
  };
}

/**
 * Runs the consumer as the process: banner, settings (exit 78 naming every bad variable), signals
 * (SIGTERM/SIGINT stop gracefully, then exit 0), and exit 1 for anything unexpected.
 */
export async function runAsProcess(
  options: { handler?: MessageHandler; env?: EnvLike; afterStop?: () => Promise<void> } = {},
): Promise<void> {
  const env = options.env ?? process.env;
  const parsed = parseSettings(env);
  const tracingConfig = parseTracingConfig(env);
  const logger = createLogger(parsed.ok ? parsed.value.logLevel : "info");
  const info = buildInfo();
  logBanner(logger, info);
  if (!parsed.ok || !tracingConfig.ok) {
    const problems = [...(parsed.ok ? [] : parsed.problems), ...(tracingConfig.ok ? [] : tracingConfig.problems)];
    logger.fatal({ event: "invalid-config", problems }, `invalid configuration: ${describeProblems(problems)}`);
    process.exit(EXIT_INVALID_CONFIG);
  }
  const crash = (error: unknown): never => {
    logger.fatal({ event: "crash", err: error }, "unexpected error; exiting");
    process.exit(1);
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);

  // Loaded only when tracing is on: off, the SDK and its exporters are never evaluated.
  const tracing =
    tracingConfig.value &&
    (await import("./tracing-sdk.js")).startTracingSdk(tracingConfig.value, info.version, logger);
  const running = await startConsumer({
    settings: parsed.value,
    env,
    logger,
    ...(options.handler ? { handler: options.handler } : {}),
  });
  const budgetMs = parsed.value.shutdownBudgetSeconds * 1000;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    // npm forwards the terminal's Ctrl-C to its child, so one keypress can arrive twice: stop once.
    if (stopping) return;
    stopping = true;
    logger.info({ event: "signal", signal }, `${signal} received`);
    // The hard end of the budget: the graceful stop plans to finish before it, but a call that hangs
    // past its own deadline (or a handler that ignores its abort signal) must not keep the pod until
    // Kubernetes kills it. What could be deleted or released by now has been.
    setTimeout(() => {
      logger.warn(
        { event: "shutdown-deadline", budgetSeconds: parsed.value.shutdownBudgetSeconds },
        "shutdown budget exhausted with work still pending; exiting",
      );
      process.exit(0);
    }, budgetMs);
    running
      .stop()
      .then(() => options.afterStop?.())
      .then(() => tracing?.shutdown())
      .then(() => process.exit(0), crash);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

/** Logs which credential source the SDK's chain found and what the queue's redrive policy is. */
async function logStartupChecks(
  sqs: SQSClient,
  settings: Settings,
  env: EnvLike,
  hints: HintContext,
  logger: Logger,
): Promise<void> {
  try {
    const credentials = await sqs.config.credentials();
    logger.info({ event: "credentials", ...summarizeCredentials(credentials, env) }, "credentials resolved");
  } catch (error) {
    const classified = classifyAwsError(error, hints);
    logger.warn(
      {
        event: "credentials",
        kind: classified.kind,
        code: classified.code,
        error: classified.message,
        hint: classified.hint,
      },
      "no credentials yet",
    );
    return;
  }
  try {
    const queue = await describeQueue(sqs, settings.queueUrl);
    if (queue.fifo !== isFifoQueueUrl(settings.queueUrl)) {
      logger.warn(
        { event: "queue-type", fifoQueue: queue.fifo },
        "the queue's FifoQueue attribute disagrees with its name: order is kept by the name's .fifo suffix",
      );
    }
    if (queue.deadLetterTargetArn === undefined) {
      logger.warn(
        { event: "queue", ...queue },
        "the queue has no redrive policy: a message that always fails is retried until it expires",
      );
    } else {
      logger.info(
        { event: "queue", ...queue },
        `failed messages move to the DLQ after ${queue.maxReceiveCount} receives`,
      );
    }
  } catch (error) {
    const classified = classifyAwsError(error, hints);
    logger.warn(
      {
        event: "queue",
        kind: classified.kind,
        code: classified.code,
        error: classified.message,
        hint: classified.hint,
      },
      "could not read the queue's attributes",
    );
  }
}
