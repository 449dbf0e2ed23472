import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type TextMapGetter,
  type Tracer,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { AWSXRayPropagator } from "@opentelemetry/propagator-aws-xray";
import type { ReceivedMessage } from "./handler";

/** The instrumentation scope the consumer's spans carry. */
export const TRACER_NAME = "sqs-eks-consumer";

/** The X-Ray propagator reads this header name; SQS carries the same value as the `AWSTraceHeader` system attribute. */
const XRAY_HEADER = "x-amzn-trace-id";

type MessageAttributes = ReceivedMessage["messageAttributes"];

const w3c = new W3CTraceContextPropagator();
const xray = new AWSXRayPropagator();

/** `traceparent`/`tracestate` travel as String message attributes (what producers' SQS instrumentation writes). */
const messageAttributeGetter: TextMapGetter<MessageAttributes> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key]?.StringValue,
};

/** The X-Ray header travels as the `AWSTraceHeader` system attribute. */
const systemAttributeGetter: TextMapGetter<Readonly<Record<string, string>>> = {
  keys: () => [XRAY_HEADER],
  get: (carrier, key) => (key.toLowerCase() === XRAY_HEADER ? carrier.AWSTraceHeader : undefined),
};

/**
 * The producer contexts a message carries: from W3C `traceparent` (+ `tracestate`) message attributes
 * and from the X-Ray `AWSTraceHeader` system attribute (both when both are present and differ).
 * Malformed values are ignored: a bad header must not fail a message.
 * Sources: semantic-conventions `docs/messaging/messaging-spans.md` (context propagation) and `sqs.md`.
 */
export function creationContexts(message: Pick<ReceivedMessage, "attributes" | "messageAttributes">): SpanContext[] {
  const found: SpanContext[] = [];
  const add = (ctx: Context): void => {
    const spanContext = trace.getSpanContext(ctx);
    if (spanContext === undefined || !trace.isSpanContextValid(spanContext)) return;
    if (found.some((f) => f.traceId === spanContext.traceId && f.spanId === spanContext.spanId)) return;
    found.push(spanContext);
  };
  if (message.messageAttributes.traceparent !== undefined)
    add(w3c.extract(ROOT_CONTEXT, message.messageAttributes, messageAttributeGetter));
  if (message.attributes.AWSTraceHeader !== undefined)
    add(xray.extract(ROOT_CONTEXT, message.attributes, systemAttributeGetter));
  return found;
}

/** What went wrong, for a span's status: a short kind (the `error.type` attribute) and the error. */
export interface SpanFailure {
  readonly kind: string;
  readonly error: unknown;
}

/**
 * The consumer's spans, by hand with `@opentelemetry/api` (a no-op until an SDK is registered, see
 * tracing-sdk.ts), after the messaging semantic conventions for a pull-based consumer:
 * - `receive <queue>` (CLIENT) per ReceiveMessage call, a root span;
 * - `process <queue>` (CONSUMER) per message, a child of the receive span that brought it, linked to
 *   the producer's context (W3C `traceparent` message attribute or X-Ray `AWSTraceHeader`); the
 *   handler runs in its context, so user code can start child spans; for a batch handler, one per
 *   batch, linked to each of its messages' producer contexts;
 * - `settle <queue>` (CLIENT) per DeleteMessageBatch call, linked to the process spans it settles.
 * Links are read from a message only when its parent is recording, so an unsampled or disabled
 * consumer never parses headers. Sources: semantic-conventions `docs/messaging/messaging-spans.md`,
 * `docs/messaging/sqs.md`.
 */
export class ConsumerTracing {
  private readonly queueName: string;
  private readonly common: Attributes;

  constructor(
    queueUrl: string,
    private readonly tracer: Tracer = trace.getTracer(TRACER_NAME),
  ) {
    const url = safeUrl(queueUrl);
    this.queueName = url?.pathname.split("/").filter(Boolean).pop() ?? queueUrl;
    this.common = {
      "messaging.system": "aws_sqs",
      "messaging.destination.name": this.queueName,
      "aws.sqs.queue.url": queueUrl,
      ...(url ? { "server.address": url.hostname } : {}),
    };
  }

  /** Starts the span of one ReceiveMessage call asking for up to `maxMessages`. */
  startReceive(maxMessages: number): Span {
    return this.tracer.startSpan(
      `receive ${this.queueName}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          ...this.common,
          "messaging.operation.name": "receive",
          "messaging.operation.type": "receive",
          "messaging.batch.message_count": maxMessages,
        },
      },
      ROOT_CONTEXT,
    );
  }

  /** Ends a receive span with the number of messages it brought; returns the parent context for their process spans. */
  receiveSucceeded(span: Span, count: number): Context {
    span.setAttribute("messaging.batch.message_count", count);
    span.end();
    return trace.setSpan(ROOT_CONTEXT, span);
  }

  /** Ends a receive span that failed (or was aborted at shutdown). */
  receiveFailed(span: Span, failure: SpanFailure): void {
    markFailed(span, failure);
    span.end();
  }

  /**
   * Starts one message's process span under `parent` (the receive span's context) and returns the
   * context that carries it: the handler runs in it, and it is handed to the handler. Process spans
   * follow the receive span's sampling decision: under an unsampled (or no-op) receive span this
   * returns `parent` as it is, at no cost.
   */
  startProcess(message: ReceivedMessage, parent: Context): Context {
    if (!isSampled(trace.getSpanContext(parent))) return parent;
    const links: Link[] = creationContexts(message).map((context) => ({ context }));
    const span = this.tracer.startSpan(
      `process ${this.queueName}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          ...this.common,
          "messaging.operation.name": "process",
          "messaging.operation.type": "process",
          "messaging.message.id": message.messageId,
          "messaging.message.body.size": Buffer.byteLength(message.body),
          "aws.sqs.message.receive_count": message.receiveCount,
        },
        ...(links.length > 0 ? { links } : {}),
      },
      parent,
    );
    return trace.setSpan(parent, span);
  }

  /**
   * Starts one batch's process span (a batch handler's call) under `parent` (the receive span of its
   * first message), linked to every producer context its messages carry, with the batch's size in
   * `messaging.batch.message_count`, as the messaging conventions model batch processing. Sampling as
   * for one message's span.
   */
  startBatchProcess(messages: readonly ReceivedMessage[], parent: Context): Context {
    if (!isSampled(trace.getSpanContext(parent))) return parent;
    const links: Link[] = messages.flatMap((message) => creationContexts(message).map((context) => ({ context })));
    const span = this.tracer.startSpan(
      `process ${this.queueName}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          ...this.common,
          "messaging.operation.name": "process",
          "messaging.operation.type": "process",
          "messaging.batch.message_count": messages.length,
        },
        ...(links.length > 0 ? { links } : {}),
      },
      parent,
    );
    return trace.setSpan(parent, span);
  }

  /** Ends the process span in `context`: OK, or ERROR with `error.type` = the failure's kind. */
  endProcess(context: Context, failure: SpanFailure | undefined): void {
    const span = trace.getSpan(context);
    if (span === undefined || !span.isRecording()) return;
    if (failure !== undefined) markFailed(span, failure);
    span.end();
  }

  /** The process span's identity, for the settle span's link; undefined when not sampled. */
  processSpanContext(context: Context): SpanContext | undefined {
    const spanContext = trace.getSpanContext(context);
    return isSampled(spanContext) ? spanContext : undefined;
  }

  /** Starts the span of one DeleteMessageBatch call of `count` entries, linked to their process spans. */
  startSettle(count: number, processSpans: readonly (SpanContext | undefined)[]): Span {
    const links = processSpans.filter((c): c is SpanContext => c !== undefined).map((context) => ({ context }));
    return this.tracer.startSpan(
      `settle ${this.queueName}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          ...this.common,
          "messaging.operation.name": "settle",
          "messaging.operation.type": "settle",
          "messaging.batch.message_count": count,
        },
        ...(links.length > 0 ? { links } : {}),
      },
      ROOT_CONTEXT,
    );
  }

  /** Ends a settle span; entries SQS refused make it an error (`error.type` = `partial_failure`). */
  settleDone(span: Span, failedEntries: number): void {
    if (failedEntries > 0) {
      span.setAttribute("aws.sqs.failed_entry_count", failedEntries);
      span.setStatus({ code: SpanStatusCode.ERROR, message: `${failedEntries} entries not deleted` });
      span.setAttribute("error.type", "partial_failure");
    }
    span.end();
  }

  /** Ends a settle span whose call failed as a whole. */
  settleFailed(span: Span, failure: SpanFailure): void {
    markFailed(span, failure);
    span.end();
  }
}

/** Sampled, not "recording": an ended span no longer records, and receive spans end before their messages are processed. */
function isSampled(spanContext: SpanContext | undefined): spanContext is SpanContext {
  return spanContext !== undefined && (spanContext.traceFlags & TraceFlags.SAMPLED) !== 0;
}

function markFailed(span: Span, { kind, error }: SpanFailure): void {
  if (!span.isRecording()) return;
  span.setAttribute("error.type", kind);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  if (error instanceof Error) span.recordException(error);
}

function safeUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
