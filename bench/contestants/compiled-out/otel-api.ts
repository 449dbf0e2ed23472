// Scenario T's baseline: what consumer/src's own imports of "@opentelemetry/api" resolve to in the
// "tracing compiled out" contestant's bundle (bench/bundles.ts). The consumer runs each handler inside
// `context.with(traceContext, ...)`; without a registered context manager the API calls the function
// as it is (NoopContextManager.with), and so does this, without the API's global lookup. A name the
// consumer imports that is missing here fails the build rather than measuring something else.
import type { Context, ContextAPI } from "@opentelemetry/api";

export const context = {
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    _context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return fn.call(thisArg, ...args);
  },
} satisfies Pick<ContextAPI, "with">;
