// Producer trace headers for tests: a good W3C traceparent and X-Ray header, and malformed ones.

/** A producer's span, as a W3C traceparent would name it. */
export const PRODUCER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
export const PRODUCER_SPAN = "00f067aa0ba902b7";
/** A valid X-Ray trace header, as SQS carries it in the AWSTraceHeader system attribute. */
export const XRAY_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
export const ZERO_TRACE = "0".repeat(32);
export const ZERO_SPAN = "0".repeat(16);

export const stringAttribute = (value: string): { traceparent: { DataType: string; StringValue: string } } => ({
  traceparent: { DataType: "String", StringValue: value },
});

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/#traceparent-header-field-values): version
 * ff is invalid, trace-id and parent-id of all zeros are invalid, hex is lowercase, version 00 has
 * exactly four fields. X-Ray (https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader):
 * `Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;Sampled=<0|1>`.
 */
export const BAD_TRACEPARENTS: Record<string, string> = {
  garbage: "not a traceparent",
  "version ff": `ff-${PRODUCER_TRACE}-${PRODUCER_SPAN}-01`,
  "all-zero trace id": `00-${ZERO_TRACE}-${PRODUCER_SPAN}-01`,
  "all-zero parent id": `00-${PRODUCER_TRACE}-${ZERO_SPAN}-01`,
  "upper-case hex": `00-${PRODUCER_TRACE.toUpperCase()}-${PRODUCER_SPAN.toUpperCase()}-01`,
  "version 00 with a fifth field": `00-${PRODUCER_TRACE}-${PRODUCER_SPAN}-01-extra`,
  "short trace id": `00-${PRODUCER_TRACE.slice(2)}-${PRODUCER_SPAN}-01`,
  oversized: `00-${PRODUCER_TRACE}-${PRODUCER_SPAN}-01`.padEnd(64 * 1024, "x"),
  empty: "",
};
export const BAD_XRAY: Record<string, string> = {
  garbage: "garbage",
  "no Root": `Parent=${PRODUCER_SPAN};Sampled=1`,
  "all-zero ids": `Root=1-00000000-000000000000000000000000;Parent=${ZERO_SPAN};Sampled=1`,
  "wrong version": `Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`,
  "Parent too short": `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c;Sampled=1`,
  oversized: `Root=1-${"5".repeat(32 * 1024)};Parent=${"5".repeat(32 * 1024)};Sampled=1`,
  empty: "",
};
