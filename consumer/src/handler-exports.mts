/**
 * Which form of handler a handler file (consumer/handler.ts) exports: exactly one of `handleMessage` and
 * `handleBatch`. The consumer checks the file's exports at start-up (exit 78), and consumer/build.mjs
 * checks the names at build time, before anything ships. This module imports nothing, so that build.mjs
 * loads it with plain Node.
 */

/** The two forms, by the name the file exports. */
export const HANDLER_EXPORTS = ["handleMessage", "handleBatch"] as const;
export type HandlerExport = (typeof HANDLER_EXPORTS)[number];

/** The name a Lambda function's handler is usually exported under: worth a hint when it is all there is. */
const LAMBDA_HANDLER_NAME = "handler";

export type HandlerExportsCheck =
  { readonly ok: true; readonly form: HandlerExport } | { readonly ok: false; readonly reason: string };

/**
 * Checks what a handler file exports: `names` are its export names; `typeOf`, when the values are known
 * (at start-up), gives each one's `typeof`. Exactly one of handleMessage and handleBatch, a function.
 * The reason names what was found, and how to fix it.
 */
export function checkHandlerExports(names: readonly string[], typeOf?: (name: string) => string): HandlerExportsCheck {
  const found = HANDLER_EXPORTS.filter((name) => names.includes(name));
  if (found.length === 2)
    return { ok: false, reason: "exports both handleMessage and handleBatch: export one of them" };
  const [form] = found;
  if (form === undefined) {
    const others = names.length === 0 ? "nothing" : names.join(", ");
    const hint = names.includes(LAMBDA_HANDLER_NAME)
      ? `; for an AWS Lambda SQS handler, export it as handleBatch (export { ${LAMBDA_HANDLER_NAME} as handleBatch })`
      : "";
    return {
      ok: false,
      reason: `exports neither handleMessage nor handleBatch (it exports ${others}): export one of them${hint}`,
    };
  }
  const type = typeOf?.(form);
  if (type !== undefined && type !== "function")
    return { ok: false, reason: `exports ${form} as ${article(type)}, not a function` };
  return { ok: true, form };
}

function article(type: string): string {
  return type === "undefined" ? "undefined" : /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
