// Scenario T's baseline: compiled in place of consumer/src/tracing-sdk.ts for the "tracing compiled
// out" contestant only (bench/bundles.ts), so no OpenTelemetry SDK is in its bundle. That contestant
// runs with tracing off; were it given OTEL_* variables, it would fail at start instead of measuring
// something else.
import type { startTracingSdk as real } from "../../../consumer/src/tracing-sdk";

export const startTracingSdk: typeof real = () => {
  throw new Error(
    "tracing is compiled out of this bundle (benchmark scenario T's baseline): run it without OTEL_* variables",
  );
};
