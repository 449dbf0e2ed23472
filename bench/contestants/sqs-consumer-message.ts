// Contestant: sqs-consumer (the most used Node.js library) with a per-message handler, 10 per receive.
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
  // Returning the message acknowledges it: sqs-consumer then deletes it (one DeleteMessage each).
  handleMessage: async (message) => {
    await work(message);
    return message;
  },
});
consumer.on("error", (error) => console.error(error));
consumer.on("processing_error", (error) => console.error(error));
consumer.start();
