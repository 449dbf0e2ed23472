import type { SQSClient } from "@aws-sdk/client-sqs";
import type { ConsumerContext } from "../../src/consumer";
import { classifyAwsError } from "../../src/errors";
import { MessageMemory } from "../../src/memory";
import { Metrics } from "../../src/metrics";
import { isFifoQueueUrl, parseSettings, type LogLevel, type Settings } from "../../src/settings";
import { ConsumerTracing } from "../../src/tracing";
import { LogCapture } from "./log-capture";

const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders";

/**
 * A ConsumerContext for testing one step on its own: settings from `env` (QUEUE_URL defaults to a
 * standard queue in eu-west-1) and `settings` (values the schema would refuse, such as a visibility
 * timeout of 1.2 s, to make scale tests short), logs kept in memory, a fresh registry, and the given SQS client.
 * `stop()` aborts the context's `stopping` signal, as shutdown does.
 */
export function testContext(
  sqs: Pick<SQSClient, "send">,
  options: {
    env?: Record<string, string>;
    settings?: Partial<Settings>;
    logLevel?: LogLevel;
    /** The memory budget; default one no test fills (1 TiB). */
    memory?: MessageMemory;
  } = {},
): { ctx: ConsumerContext; logs: LogCapture; metrics: Metrics; stop: () => void } {
  const parsed = parseSettings({ QUEUE_URL, ...options.env });
  if (!parsed.ok) throw new Error(`bad test settings: ${JSON.stringify(parsed.problems)}`);
  const settings = { ...parsed.value, ...options.settings };
  const logs = new LogCapture(options.logLevel ?? "info");
  const metrics = new Metrics();
  const stopping = new AbortController();
  const ctx: ConsumerContext = {
    settings,
    sqs: sqs as SQSClient,
    logger: logs.logger,
    metrics,
    tracing: new ConsumerTracing(settings.queueUrl),
    classify: (error) => classifyAwsError(error, { queueUrl: settings.queueUrl, region: settings.region }),
    memory: options.memory ?? new MessageMemory(2 ** 40),
    fifo: isFifoQueueUrl(settings.queueUrl),
    stopping: stopping.signal,
  };
  return { ctx, logs, metrics, stop: () => stopping.abort() };
}
