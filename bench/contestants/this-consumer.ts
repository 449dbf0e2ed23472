// Contestant: this project's consumer, its real code with default settings, started as a library
// with the scenario's handler and the shared counting middleware on its own SQS client.
import {
  createLogger,
  createSqsClient,
  describeProblems,
  parseSettings,
  startConsumer,
} from "../../consumer/src/index";
import { countRequests } from "../request-counter";
import { answerReports, doWork, exitOnError, readContestantEnv } from "./common";

async function main(): Promise<void> {
  const { work } = readContestantEnv();
  const parsed = parseSettings(process.env);
  if (!parsed.ok) throw new Error(`invalid settings: ${describeProblems(parsed.problems)}`);
  const settings = parsed.value;
  const sqs = createSqsClient(settings, process.env);
  answerReports(countRequests(sqs));
  await startConsumer({
    settings,
    env: process.env,
    logger: createLogger(settings.logLevel),
    sqs,
    // "log": the consumer's own default handler, the log line every contestant writes.
    ...(work === "log" ? {} : { handler: () => doWork(work).then(() => undefined) }),
  });
}

main().catch(exitOnError);
