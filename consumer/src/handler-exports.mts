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
 * Most parameters a handler takes: (message, context) or (event, context). A third is the callback of
 * a callback-style Lambda handler (event, context, callback), which the consumer never passes; Lambda's
 * own nodejs24.x runtime dropped callback-style handlers too (aws/aws-lambda-nodejs-runtime-interface-client,
 * "Should AWS Lambda deprecate callback-style function handlers for Node.js 24 and later?").
 */
export const MAX_HANDLER_PARAMETERS = 2;

/** What is known of one export's value: its `typeof`, and for a function its `length` (declared parameters). */
export interface ExportValue {
  readonly type: string;
  readonly length?: number | undefined;
}

/**
 * Checks what a handler file exports: `names` are its export names; `valueOf`, when the values are
 * known (at start-up, and at build, which loads the bundled file), describes each one. Exactly one of
 * handleMessage and handleBatch, a function of at most two parameters. The reason names what was
 * found, and how to fix it.
 */
export function checkHandlerExports(
  names: readonly string[],
  valueOf?: (name: string) => ExportValue,
): HandlerExportsCheck {
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
  const value = valueOf?.(form);
  if (value !== undefined && value.type !== "function")
    return { ok: false, reason: `exports ${form} as ${article(value.type)}, not a function` };
  if (value?.length !== undefined && value.length > MAX_HANDLER_PARAMETERS)
    return {
      ok: false,
      reason:
        `exports ${form} as a function of ${value.length} parameters, a callback-style handler (event, context, callback): ` +
        `the consumer passes no callback; make it async and return its answer (or throw) instead of calling the callback`,
    };
  return { ok: true, form };
}

function article(type: string): string {
  return type === "undefined" ? "undefined" : /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** What esbuild (and tsx, which uses it) says of a file it cannot compile: `path:line:column: ERROR: text`. */
const COMPILE_ERROR = /^(.+?):(\d+):(\d+): ERROR: (.+)$/m;
/** A stack frame's place: `at fn (path:line:column)` or `at path:line:column`. */
const STACK_FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/gm;
/** esbuild's words for top-level await in a CommonJS bundle, the form the consumer is built in. */
const TOP_LEVEL_AWAIT = /Top-level await is currently not supported with the "cjs" output format/;

/** Where loading a handler file failed (`path:line:column`, when known) and why. */
export interface LoadError {
  readonly at: string | undefined;
  readonly reason: string;
}

/**
 * What to say of an error thrown while the handler file was loaded (compiled, or its top level run), at
 * `npm start` and at `npm run build`: the place (`path:line:column`, the path relative to `root`, the
 * repository; the first place in the user's files, not in node_modules; columns counted from 1) and
 * the reason. A syntax error names where esbuild stopped (its messages count columns from 0); a throw,
 * where it was thrown; top-level await says what to do instead (the consumer is bundled as CommonJS,
 * where a module cannot wait at its top level).
 */
export function describeLoadError(error: unknown, root: string): LoadError {
  const text = error instanceof Error ? error.message : String(error);
  const relative = (path: string): string => path.replace(/^file:\/\//, "").replace(`${root.replace(/\/+$/, "")}/`, "");
  const compile = COMPILE_ERROR.exec(text);
  if (compile !== null) {
    const [, path, line, column, what] = compile;
    const hint = TOP_LEVEL_AWAIT.test(what!)
      ? ": the consumer is bundled as CommonJS; await inside handleMessage or handleBatch instead (start the work at the top level and await its promise there)"
      : "";
    return { at: `${relative(path!)}:${line}:${Number(column) + 1}`, reason: `${what}${hint}` };
  }
  const stack = error instanceof Error ? (error.stack ?? "") : "";
  const frame = [...stack.matchAll(STACK_FRAME)].find(
    ([, path]) => !path!.includes("node_modules") && !path!.startsWith("node:") && path!.includes("/"),
  );
  return {
    at: frame === undefined ? undefined : `${relative(frame[1]!)}:${frame[2]}:${frame[3]}`,
    reason: `${error instanceof Error ? `${error.name}: ` : ""}${text}`,
  };
}
