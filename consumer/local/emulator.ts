import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { buildApp } from "fauxqs" with { "resolution-mode": "import" };
import { queueVisibilityTimeoutSeconds, type Tunables } from "../src/settings";

/**
 * fauxqs, an SQS emulator, served on loopback only. Used by `npm start`, the tests and the benchmark;
 * never by the shipped consumer. Queue URLs it returns carry host names such as sqs.us-east-1.localhost
 * that need not resolve: clients reach it through AWS_ENDPOINT_URL_SQS / `endpoint`.
 */
export interface Emulator {
  /** e.g. http://127.0.0.1:4566 */
  readonly endpoint: string;
  readonly port: number;
  /** Messages in each queue by state, read in process (no SQS request, so no hook sees it). */
  queueDepths(): Promise<Map<string, QueueDepth>>;
  stop(): Promise<void>;
}

/** Messages in one queue: visible, received and not yet visible again, and delayed. */
export interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

/** One request the emulator served: the SQS operation and the access key that signed it. */
export interface EmulatorRequest {
  readonly operation: string;
  readonly accessKeyId: string | undefined;
}

export interface EmulatorOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly region?: string;
  /** Called for every SQS request, before it is handled: lets tests see who called what. */
  readonly onRequest?: (request: EmulatorRequest) => void;
  /** Called when the response to a request is sent, with the object `onRequest` was given (the benchmark times requests). */
  readonly onResponse?: (request: EmulatorRequest) => void;
  /** Adds hooks to the emulator's HTTP server before it listens: lets tests inject faults. */
  readonly configure?: (app: EmulatorApp) => void;
}

/** The emulator's HTTP server (a Fastify instance). */
export type EmulatorApp = ReturnType<typeof buildApp>;

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const fauxqs = await import("fauxqs");
  const app = fauxqs.buildApp({ logger: false, ...(options.region ? { defaultRegion: options.region } : {}) });
  options.configure?.(app);
  const { onRequest, onResponse } = options;
  if (onRequest || onResponse) {
    const seen = new WeakMap<object, EmulatorRequest>();
    app.addHook("onRequest", (request, _reply, done) => {
      const target = request.headers["x-amz-target"];
      if (typeof target === "string" && target.startsWith("AmazonSQS.")) {
        const credential = /Credential=([^/]+)\//.exec(String(request.headers.authorization ?? ""));
        const served: EmulatorRequest = { operation: target.slice("AmazonSQS.".length), accessKeyId: credential?.[1] };
        seen.set(request, served);
        onRequest?.(served);
      }
      done();
    });
    if (onResponse) {
      app.addHook("onResponse", (request, _reply, done) => {
        const served = seen.get(request);
        if (served) onResponse(served);
        done();
      });
    }
  }
  const host = options.host ?? "127.0.0.1";
  const address = await app.listen({ host, port: options.port ?? 0 });
  const port = Number(new URL(address).port);
  return {
    endpoint: `http://${host}:${port}`,
    port,
    async queueDepths() {
      // fauxqs's own inspection route, injected: it never touches the network or the hooks' counts.
      const response = await app.inject({ method: "GET", url: "/_fauxqs/queues" });
      const queues = response.json<
        {
          name: string;
          approximateMessageCount: number;
          approximateInflightCount: number;
          approximateDelayedCount: number;
        }[]
      >();
      return new Map(
        queues.map((q) => [
          q.name,
          {
            visible: q.approximateMessageCount,
            inFlight: q.approximateInflightCount,
            delayed: q.approximateDelayedCount,
          },
        ]),
      );
    },
    stop: () => app.close(),
  };
}

/** Credentials the emulator accepts; it never checks them. Only ever sent to an emulator on loopback. */
export const EMULATOR_CREDENTIALS = { accessKeyId: "local-emulator", secretAccessKey: "local-emulator" } as const;

/** An SQS client for an emulator endpoint (test set-up, the local sender, the benchmark). */
export function emulatorClient(endpoint: string, region = "us-east-1"): SQSClient {
  return new SQSClient({ endpoint, region, credentials: EMULATOR_CREDENTIALS });
}

export interface QueuePair {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly dlqUrl: string;
}

/**
 * Creates a queue and its DLQ the way the Pulumi program does: visibility timeout derived from the
 * handler timeout, long polling at the consumer's wait time, redrive after `maxReceiveCount` receives.
 * With `fifo`, both are FIFO queues (names end in `.fifo`, as SQS requires) with content-based
 * deduplication, so a sender may leave out deduplication ids. `maximumMessageSize`, bytes, sets the
 * queue's MaximumMessageSize attribute (1,024 to 1,048,576; SQS API Reference, CreateQueue); left out,
 * the queue gets the emulator's default, SQS's largest (1 MiB).
 */
export async function createQueueWithDlq(
  sqs: SQSClient,
  name: string,
  tunables: Pick<Tunables, "handlerTimeoutSeconds" | "waitTimeSeconds">,
  maxReceiveCount: number,
  fifo = false,
  maximumMessageSize?: number,
): Promise<QueuePair> {
  const suffix = fifo ? ".fifo" : "";
  const type = fifo ? { FifoQueue: "true", ContentBasedDeduplication: "true" } : {};
  const dlq = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}-dlq${suffix}`,
      Attributes: { ...type, MessageRetentionPeriod: String(14 * 24 * 3600) },
    }),
  );
  const dlqArn = await queueArn(sqs, dlq.QueueUrl!);
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}${suffix}`,
      Attributes: {
        ...type,
        ...(maximumMessageSize === undefined ? {} : { MaximumMessageSize: String(maximumMessageSize) }),
        VisibilityTimeout: String(queueVisibilityTimeoutSeconds(tunables)),
        ReceiveMessageWaitTimeSeconds: String(tunables.waitTimeSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
      },
    }),
  );
  return { queueUrl: queue.QueueUrl!, queueArn: await queueArn(sqs, queue.QueueUrl!), dlqUrl: dlq.QueueUrl! };
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
  );
  return Attributes!.QueueArn!;
}
