import { DiagLogLevel, context, diag, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter as OtlpJsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OtlpProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { Logger } from "./logger";
import { proxyAgentOptions, type ProxySettings } from "./proxy";
import type { TracingConfig } from "./tracing-config";

/** Most time shutdown gives the last spans to reach the collector. */
const FLUSH_DEADLINE_MS = 3_000;

/** A started tracing SDK: flush and stop it last, after the consumer has stopped. */
export interface TracingSdk {
  /** Exports what is buffered and stops; resolves within 3 s even when the collector does not answer. */
  shutdown(): Promise<void>;
}

/**
 * Starts a minimal OpenTelemetry SDK and registers it globally: a tracer provider whose batch span
 * processor exports over OTLP/HTTP (protobuf or JSON) to `config.endpoint`, an AsyncLocalStorage
 * context manager (so a handler's own spans find their parent), and W3C trace-context/baggage
 * propagators. The resource carries `service.name` (and `OTEL_RESOURCE_ATTRIBUTES`). Sampling,
 * batching, span limits and export headers come from the SDK's own `OTEL_*` variables
 * (`OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`, `OTEL_EXPORTER_OTLP_HEADERS`, ...). Export failures are
 * logged as warnings (event `otel`), never thrown. Exports go through the proxy `proxy` names (HTTPS_PROXY
 * or HTTP_PROXY by the endpoint's scheme) unless NO_PROXY names the collector's host, as SQS requests do
 * (proxy.ts). This module is loaded only when tracing is on.
 * Source: opentelemetry-js `packages/opentelemetry-sdk-trace-base`, `experimental/packages/exporter-trace-otlp-*`.
 */
export function startTracingSdk(
  config: TracingConfig,
  version: string,
  logger: Logger,
  proxy: ProxySettings = {},
): TracingSdk {
  diag.setLogger(
    {
      error: (message, ...args) => logger.warn({ event: "otel", detail: args.map(String) }, message),
      warn: (message, ...args) => logger.warn({ event: "otel", detail: args.map(String) }, message),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.WARN,
  );
  // The exporter builds its agent from these options (keep-alive, as its default), for either scheme.
  const exporterConfig = {
    url: config.endpoint,
    timeoutMillis: config.timeoutMs,
    httpAgentOptions: { keepAlive: true, ...proxyAgentOptions(proxy) },
  };
  const exporter =
    config.protocol === "http/json" ? new OtlpJsonExporter(exporterConfig) : new OtlpProtobufExporter(exporterConfig);
  const resource = resourceFromAttributes({ "service.name": config.serviceName, "service.version": version }).merge(
    detectResources({ detectors: [envDetector] }),
  );
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(provider);
  logger.info(
    { event: "tracing", endpoint: config.endpoint, protocol: config.protocol, serviceName: config.serviceName },
    `exporting traces to ${config.endpoint}`,
  );
  return {
    async shutdown() {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<"timeout">(
        (resolve) => (timer = setTimeout(() => resolve("timeout"), FLUSH_DEADLINE_MS)),
      );
      const outcome = await Promise.race([
        provider.shutdown().then(
          () => "flushed" as const,
          (error: unknown) => error,
        ),
        deadline,
      ]);
      clearTimeout(timer);
      if (outcome === "timeout")
        logger.warn(
          { event: "otel", deadlineMs: FLUSH_DEADLINE_MS },
          "the trace collector did not take the last spans in time",
        );
      else if (outcome !== "flushed") logger.warn({ event: "otel", err: outcome }, "could not export the last spans");
      trace.disable();
      context.disable();
      propagation.disable();
      diag.disable();
    },
  };
}
