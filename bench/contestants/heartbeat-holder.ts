// Scenario H's consumer: this project's consumer, its real code, holding every message it receives for
// BENCH_HOLD_SECONDS, so the visibility heartbeat must keep them all invisible meanwhile. Its log goes
// to stdout at the level LOG_LEVEL sets (debug: one line per heartbeat pass), read by the orchestrator.
import { setTimeout as sleep } from "node:timers/promises";
import {
  createLogger,
  createSqsClient,
  describeProblems,
  parseSettings,
  startConsumer,
} from "../../consumer/src/index";
import { exitOnError } from "./common";

async function main(): Promise<void> {
  const holdMs = Number(process.env.BENCH_HOLD_SECONDS) * 1000;
  if (!(holdMs > 0))
    throw new Error(
      `BENCH_HOLD_SECONDS must be a positive number of seconds, got ${JSON.stringify(process.env.BENCH_HOLD_SECONDS)}`,
    );
  const parsed = parseSettings(process.env);
  if (!parsed.ok) throw new Error(`invalid settings: ${describeProblems(parsed.problems)}`);
  const settings = parsed.value;
  await startConsumer({
    settings,
    env: process.env,
    logger: createLogger(settings.logLevel),
    sqs: createSqsClient(settings, process.env),
    handler: async (message, { logger }) => {
      await sleep(holdMs);
      logger.info({ event: "held", messageId: message.messageId, receiveCount: message.receiveCount }, "held");
    },
  });
}

main().catch(exitOnError);
