// `npm start`: run the handler in consumer/handler.ts. With QUEUE_URL set, on that queue with the SDK's
// normal credentials. Without it, start an embedded SQS emulator on loopback, create a queue and its DLQ
// from the same settings the Pulumi program uses (FIFO ones with LOCAL_QUEUE_TYPE=fifo), print how to
// send to it, and consume it. The health server listens on loopback only: /metrics is for this machine.
import { join } from "node:path";
import { exitInvalidConfig, runAsProcess, type ProcessOptions } from "../src/app";
import { handlerFromFile } from "../src/handler";
import { describeLoadError } from "../src/handler-exports.mjs";
import { createLogger } from "../src/logger";
import { parseTunables } from "../src/settings";
import { EMULATOR_CREDENTIALS, createQueueWithDlq, emulatorClient, startEmulator, type Emulator } from "./emulator";

const DEFAULT_PORT = 4566;
const QUEUE_NAME = "sqs-eks-consumer-local";
const HANDLER_PATH = "consumer/handler.ts";

/**
 * The handler file's exports. Loaded here rather than imported, so that a file that does not compile
 * or throws at its top level stops start-up with one line naming the file and the place (exit 78), as
 * `npm run build` does, not a stack trace. Its exports' types are checked by `npm run lint` where the
 * image imports it (src/main.ts).
 */
async function loadHandlerFile(): Promise<Readonly<Record<string, unknown>>> {
  try {
    return await import("../handler.js");
  } catch (error) {
    const { at, reason } = describeLoadError(error, join(__dirname, "..", ".."));
    return exitInvalidConfig([{ key: at ?? HANDLER_PATH, reason }]);
  }
}

async function main(): Promise<void> {
  const HANDLER_FILE = { path: HANDLER_PATH, exports: await loadHandlerFile() };
  const LOCAL: ProcessOptions = { handlerFile: HANDLER_FILE, healthHost: "127.0.0.1" };
  if (process.env.QUEUE_URL) {
    await runAsProcess(LOCAL);
    return;
  }
  // Settings or a handler file the consumer would reject: exit 78 naming them, before the emulator starts
  // (QUEUE_URL is not among them: the emulator's queue will be it).
  const tunables = parseTunables(process.env);
  const handlerFile = handlerFromFile(HANDLER_FILE.path, HANDLER_FILE.exports);
  if (!tunables.ok || !handlerFile.ok)
    exitInvalidConfig([...(tunables.ok ? [] : tunables.problems), ...(handlerFile.ok ? [] : handlerFile.problems)]);
  const port = Number(process.env.LOCAL_SQS_PORT ?? DEFAULT_PORT);
  const maxReceiveCount = Number(process.env.LOCAL_MAX_RECEIVE_COUNT ?? 5);
  const region = process.env.AWS_REGION ?? "us-east-1";
  const queueType = process.env.LOCAL_QUEUE_TYPE ?? "standard";
  if (queueType !== "standard" && queueType !== "fifo") {
    console.error(`LOCAL_QUEUE_TYPE must be standard or fifo, got "${queueType}"`);
    process.exit(78);
  }
  let emulator: Emulator;
  try {
    emulator = await startEmulator({ port, region });
  } catch (error) {
    const code = (error as { code?: string }).code;
    console.error(code === "EADDRINUSE" ? `Port ${port} is in use: set LOCAL_SQS_PORT to a free port.` : error);
    process.exit(1);
  }
  const sqs = emulatorClient(emulator.endpoint, region);
  const queue = await createQueueWithDlq(sqs, QUEUE_NAME, tunables.value, maxReceiveCount, queueType === "fifo");
  sqs.destroy();

  // The consumer reaches the emulator the way any SDK user would: through the standard variables.
  // The placeholder keys also keep real credentials from being sent to the emulator.
  process.env.QUEUE_URL = queue.queueUrl;
  process.env.AWS_REGION = region;
  process.env.AWS_ENDPOINT_URL_SQS = emulator.endpoint;
  process.env.AWS_ACCESS_KEY_ID = EMULATOR_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = EMULATOR_CREDENTIALS.secretAccessKey;
  delete process.env.AWS_SESSION_TOKEN;

  await runAsProcess({ ...LOCAL, afterStop: () => emulator.stop() });
  const fifo = queueType === "fifo";
  // The send command must find the same queue on the same port: it reads the same variables.
  const sendEnv = [
    ...(fifo ? ["LOCAL_QUEUE_TYPE=fifo"] : []),
    ...(port === DEFAULT_PORT ? [] : [`LOCAL_SQS_PORT=${port}`]),
  ]
    .map((v) => `${v} `)
    .join("");
  const send =
    `AWS_ACCESS_KEY_ID=${EMULATOR_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${EMULATOR_CREDENTIALS.secretAccessKey} ` +
    `aws --region ${region} --endpoint-url ${emulator.endpoint} sqs send-message --queue-url ${queue.queueUrl} --message-body 'Hello world!'` +
    (fifo ? " --message-group-id g1" : "");
  createLogger(tunables.value.logLevel).info(
    {
      event: "local-emulator",
      endpoint: emulator.endpoint,
      queueUrl: queue.queueUrl,
      dlqUrl: queue.dlqUrl,
      maxReceiveCount,
      send,
      sendWithNpm: `${sendEnv}npm run send -- 'Hello world!'${fifo ? " 5 --group-id g1" : ""}`,
    },
    `embedded SQS emulator on ${emulator.endpoint}; send a message with: ${send}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
