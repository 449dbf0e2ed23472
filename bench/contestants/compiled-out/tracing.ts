// Scenario T's baseline: what esbuild compiles in place of consumer/src/tracing.ts for the "tracing
// compiled out" contestant only (bench/bundles.ts). Same class, same public methods, no work: no
// tracer, no span objects, no attribute records, no context created per receive. The consumer's
// other code is untouched and calls these as it calls the real ones.
import type { Context, Span, SpanContext } from "@opentelemetry/api";
import type { ConsumerTracing as Traced } from "../../../consumer/src/tracing";

const INVALID_SPAN_CONTEXT: SpanContext = { traceId: "0".repeat(32), spanId: "0".repeat(16), traceFlags: 0 };

/** One span for every call that must return one; the consumer only hands it back to this class. */
const NO_SPAN: Span = {
  spanContext: () => INVALID_SPAN_CONTEXT,
  setAttribute: () => NO_SPAN,
  setAttributes: () => NO_SPAN,
  addEvent: () => NO_SPAN,
  addLink: () => NO_SPAN,
  addLinks: () => NO_SPAN,
  setStatus: () => NO_SPAN,
  updateName: () => NO_SPAN,
  end: () => undefined,
  isRecording: () => false,
  recordException: () => undefined,
};

/** The one context every message is handled in: empty, as ROOT_CONTEXT is. */
const NO_CONTEXT: Context = { getValue: () => undefined, setValue: () => NO_CONTEXT, deleteValue: () => NO_CONTEXT };

/** The public shape of the real ConsumerTracing: a method added there and called by the consumer fails this build. */
type TracingShape = { [K in keyof Traced]: Traced[K] };

export class ConsumerTracing implements TracingShape {
  constructor(_queueUrl: string) {}
  startReceive(): Span {
    return NO_SPAN;
  }
  receiveSucceeded(): Context {
    return NO_CONTEXT;
  }
  receiveFailed(): void {}
  startProcess(_message: unknown, parent: Context): Context {
    return parent;
  }
  startBatchProcess(_messages: unknown, parent: Context): Context {
    return parent;
  }
  endProcess(): void {}
  processSpanContext(): SpanContext | undefined {
    return undefined;
  }
  startSettle(): Span {
    return NO_SPAN;
  }
  settleDone(): void {}
  settleFailed(): void {}
}
