/**
 * Your handler: the consumer calls what this file exports for the messages of its queue, with `npm start`
 * and in the image. Export exactly one of the two forms (neither or both: the consumer exits 78 and
 * `npm run build` fails, naming this file and what it exports).
 *
 * One message at a time: resolve to have it deleted, throw to have it delivered again (then the DLQ).
 *
 *   export async function handleMessage(message: ReceivedMessage, { signal, logger }: HandlerContext) {
 *     const order = JSON.parse(message.body);
 *     await saveOrder(order, { signal }); // signal aborts at HANDLER_TIMEOUT_SECONDS and at shutdown
 *     logger.info({ messageId: message.messageId }, "order saved");
 *   }
 *
 * Or an AWS Lambda SQS handler, unchanged: a batch of records, the failed ones listed in the answer.
 *
 *   export async function handleBatch(event: SQSEvent): Promise<SQSBatchResponse> {
 *     const batchItemFailures = [];
 *     for (const record of event.Records) {
 *       try { await saveOrder(JSON.parse(record.body)); }
 *       catch { batchItemFailures.push({ itemIdentifier: record.messageId }); }
 *     }
 *     return { batchItemFailures };
 *   }
 *
 * The types come from "./src" (SQSEvent and SQSBatchResponse are those of @types/aws-lambda); npm
 * packages you import go in consumer/package.json, files you import beside this one in consumer/
 * (`npm run build` checks both). The default below logs each message.
 */
export { logMessage as handleMessage } from "./src";
