import type { SQSClient } from "@aws-sdk/client-sqs";

/** Requests by SQS operation name, e.g. { ReceiveMessage: 2001, DeleteMessageBatch: 2000 }. */
export type RequestCounts = Record<string, number>;

/**
 * Counts every request the client sends, by operation. The middleware sits in the deserialize step,
 * inside the SDK's retry loop, so a retried call counts once per attempt: what the server sees.
 * Every contestant's client gets this same middleware.
 */
export function countRequests(client: SQSClient): RequestCounts {
  const counts: RequestCounts = {};
  client.middlewareStack.add(
    (next, context) => (args) => {
      const operation = (context.commandName ?? "Unknown").replace(/Command$/, "");
      counts[operation] = (counts[operation] ?? 0) + 1;
      return next(args);
    },
    { step: "deserialize", name: "benchRequestCounter" },
  );
  return counts;
}

export function totalRequests(counts: RequestCounts): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}
