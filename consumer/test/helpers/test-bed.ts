import type { SQSClient } from "@aws-sdk/client-sqs";
import { startConsumer, type RunningConsumer } from "../../src/app";
import type { BatchHandler, MessageHandler } from "../../src/handler";
import { DEFAULT_TUNABLES, parseSettings, type Settings } from "../../src/settings";
import {
  EMULATOR_CREDENTIALS,
  createQueueWithDlq,
  emulatorClient,
  startEmulator,
  type Emulator,
  type EmulatorApp,
  type EmulatorRequest,
  type QueuePair,
} from "../../local/emulator";
import { LogCapture } from "./log-capture";

/** An emulator on loopback with a fresh queue and DLQ, and a record of every request it served. */
export interface TestBed {
  readonly emulator: Emulator;
  /** A client for the test's own set-up and checks (its requests are recorded too). */
  readonly sqs: SQSClient;
  readonly queue: QueuePair;
  readonly requests: EmulatorRequest[];
  /** Environment for a consumer of this queue, reaching the emulator like any SDK user would. */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

let queues = 0;

export async function startTestBed(
  options: { maxReceiveCount?: number; handlerTimeoutSeconds?: number; configure?: (app: EmulatorApp) => void } = {},
): Promise<TestBed> {
  const requests: EmulatorRequest[] = [];
  const emulator = await startEmulator({
    onRequest: (r) => requests.push(r),
    ...(options.configure ? { configure: options.configure } : {}),
  });
  const sqs = emulatorClient(emulator.endpoint);
  const queue = await createQueueWithDlq(
    sqs,
    `test-${process.pid}-${++queues}`,
    {
      ...DEFAULT_TUNABLES,
      handlerTimeoutSeconds: options.handlerTimeoutSeconds ?? DEFAULT_TUNABLES.handlerTimeoutSeconds,
    },
    options.maxReceiveCount ?? 5,
  );
  const env = {
    QUEUE_URL: queue.queueUrl,
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL_SQS: emulator.endpoint,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    HEALTH_PORT: "0",
  };
  return {
    emulator,
    sqs,
    queue,
    requests,
    env,
    async close() {
      sqs.destroy();
      await emulator.stop();
    },
  };
}

/**
 * Starts the consumer in this process against the bed's queue, with settings from `overrides`
 * (environment variable names, as an operator would set them) and an optional custom handler (a message
 * handler or a batch handler).
 * The SDK reads endpoint and credentials from process.env, so they are set there.
 */
export async function startTestConsumer(
  bed: Pick<TestBed, "env">,
  options: {
    env?: Record<string, string>;
    handler?: MessageHandler;
    batchHandler?: BatchHandler;
    sqs?: (settings: Settings, env: Record<string, string>) => SQSClient;
  } = {},
): Promise<{ running: RunningConsumer; logs: LogCapture }> {
  const env = { ...bed.env, ...options.env };
  for (const key of ["AWS_ENDPOINT_URL_SQS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] as const)
    process.env[key] = env[key];
  const parsed = parseSettings(env);
  if (!parsed.ok) throw new Error(`bad test settings: ${JSON.stringify(parsed.problems)}`);
  const logs = new LogCapture(parsed.value.logLevel);
  const running = await startConsumer({
    settings: parsed.value,
    env,
    logger: logs.logger,
    ...(options.handler ? { handler: options.handler } : {}),
    ...(options.batchHandler ? { batchHandler: options.batchHandler } : {}),
    ...(options.sqs ? { sqs: options.sqs(parsed.value, env) } : {}),
  });
  return { running, logs };
}
