// Contestant: sqs-consumer with handleMessageBatch: the batch's messages handled concurrently, then
// one DeleteMessageBatch for the batch.
import { Consumer } from "sqs-consumer";
import {
  MAX_MESSAGES,
  VISIBILITY_TIMEOUT_SECONDS,
  WAIT_TIME_SECONDS,
  answerReports,
  workOf,
  plainClient,
  readContestantEnv,
} from "./common";

const env = readContestantEnv();
const { sqs, counts } = plainClient(env);
answerReports(counts);
const work = workOf(env.work);
const consumer = Consumer.create({
  queueUrl: env.queueUrl,
  sqs,
  batchSize: MAX_MESSAGES,
  waitTimeSeconds: WAIT_TIME_SECONDS,
  visibilityTimeout: VISIBILITY_TIMEOUT_SECONDS,
  handleMessageBatch: async (messages) => {
    await Promise.all(messages.map(work));
    return messages;
  },
});
consumer.on("error", (error) => console.error(error));
consumer.on("processing_error", (error) => console.error(error));
consumer.start();
