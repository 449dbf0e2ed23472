// The contestants' bundles: every contestant runs as one esbuild bundle under plain `node`, compiled
// with the harness's CONSUMER_BUNDLE_OPTIONS.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { build, type Plugin } from "esbuild";
import { buildInfoDefine, CONSUMER_BUNDLE_OPTIONS } from "../harness";
import type { Contestant } from "./lineup";

const benchDir = __dirname;
const repoDir = join(benchDir, "..");

/** Every bundle: the contestants', and scenario H's consumer that holds its messages. */
export type BundlePaths = { readonly [K in Contestant["bundle"] | "heartbeat-holder"]: string };

const consumerSrc = join(repoDir, "consumer", "src");
const compiledOutDir = join(benchDir, "contestants", "compiled-out");
/** consumer/src modules replaced in the compiled-out bundle, and what replaces them. */
const COMPILED_OUT_MODULES: Readonly<Record<string, string>> = {
  [join(consumerSrc, "tracing.ts")]: join(compiledOutDir, "tracing.ts"),
  [join(consumerSrc, "tracing-sdk.ts")]: join(compiledOutDir, "tracing-sdk.ts"),
};

/**
 * Compiles tracing out of this consumer for scenario T's baseline: consumer/src/tracing.ts and
 * tracing-sdk.ts load the no-op modules in bench/contestants/compiled-out/, and consumer/src's own
 * imports of "@opentelemetry/api" resolve to compiled-out/otel-api.ts (its `context.with` only).
 * Everything else is bundled as in the contestant with tracing. `replaced` lists what it swapped.
 */
function compileTracingOut(replaced: Set<string>): Plugin {
  const inConsumerSrc = (file: string): boolean => file.startsWith(consumerSrc + sep);
  return {
    name: "compile-tracing-out",
    setup(b) {
      b.onResolve({ filter: /^@opentelemetry\/api$/ }, (args) => {
        if (!inConsumerSrc(args.importer)) return undefined;
        replaced.add(`@opentelemetry/api from ${relative(repoDir, args.importer)}`);
        return { path: join(compiledOutDir, "otel-api.ts") };
      });
      b.onLoad({ filter: /[\\/]consumer[\\/]src[\\/]tracing(-sdk)?\.ts$/ }, (args) => {
        const stand = COMPILED_OUT_MODULES[args.path];
        if (stand === undefined) return undefined;
        replaced.add(relative(repoDir, args.path));
        return { contents: readFileSync(stand, "utf8"), loader: "ts", resolveDir: dirname(stand) };
      });
    },
  };
}

/**
 * Scenario T's contestant, this-consumer-process.ts, bundled as consumer/build.mjs bundles the image's
 * consumer (ES module builds of packages first, build info defined), with tracing in or, for the
 * baseline, compiled out. The baseline is checked: both tracing modules replaced, no consumer/src file
 * importing an @opentelemetry package, and no @opentelemetry package in the bundle but the API, which
 * prom-client's process CPU metric requires for exemplars (read only when metrics are scraped with
 * exemplars on). Otherwise it throws, so the baseline can never silently be the traced code.
 */
async function buildProcessContestant(outDir: string, withoutTracing: boolean): Promise<string> {
  const name = withoutTracing ? "this-consumer-process-untraced" : "this-consumer-process";
  const replaced = new Set<string>();
  const { version } = JSON.parse(readFileSync(join(repoDir, "consumer", "package.json"), "utf8")) as {
    version: string;
  };
  const result = await build({
    entryPoints: [{ in: join(benchDir, "contestants", "this-consumer-process.ts"), out: name }],
    outdir: outDir,
    metafile: true,
    plugins: withoutTracing ? [compileTracingOut(replaced)] : [],
    ...CONSUMER_BUNDLE_OPTIONS,
    mainFields: ["module", "main"],
    define: buildInfoDefine({ name: "sqs-eks-consumer", version, commit: "bench", buildTime: "bench" }),
  });
  if (withoutTracing) {
    const otel = (path: string): boolean => path.includes("@opentelemetry/");
    const missing = Object.keys(COMPILED_OUT_MODULES)
      .map((m) => relative(repoDir, m))
      .filter((m) => !replaced.has(m));
    const inputs = Object.entries(result.metafile.inputs);
    const consumerImports = inputs
      .filter(([file, info]) => file.startsWith("consumer/src/") && info.imports.some((i) => otel(i.path)))
      .map(([file]) => file);
    const packages = inputs.map(([file]) => file).filter((file) => otel(file) && !file.includes("@opentelemetry/api/"));
    if (missing.length > 0 || consumerImports.length > 0 || packages.length > 0) {
      throw new Error(
        `tracing was not compiled out of the baseline bundle: not replaced ${JSON.stringify(missing)}; ` +
          `consumer files importing @opentelemetry ${JSON.stringify(consumerImports)}; other @opentelemetry files bundled ${JSON.stringify(packages.slice(0, 5))}`,
      );
    }
  }
  return join(outDir, `${name}.js`);
}

export async function buildBundles(outDir: string): Promise<BundlePaths> {
  const entries = [
    "this-consumer",
    "sqs-consumer-message",
    "sqs-consumer-batch",
    "raw-loop",
    "heartbeat-holder",
  ] as const;
  await build({
    entryPoints: entries.map((name) => join(benchDir, "contestants", `${name}.ts`)),
    outdir: outDir,
    ...CONSUMER_BUNDLE_OPTIONS,
  });
  // The shipped artefact, built by the consumer's own build script.
  const consumerMain = join(outDir, "consumer-main.js");
  execFileSync(process.execPath, [join(repoDir, "consumer", "build.mjs"), "--outfile", consumerMain], {
    stdio: "pipe",
  });
  return {
    "this-consumer": join(outDir, "this-consumer.js"),
    "this-consumer-process": await buildProcessContestant(outDir, false),
    "sqs-consumer-message": join(outDir, "sqs-consumer-message.js"),
    "sqs-consumer-batch": join(outDir, "sqs-consumer-batch.js"),
    "raw-loop": join(outDir, "raw-loop.js"),
    "heartbeat-holder": join(outDir, "heartbeat-holder.js"),
    "consumer-main": consumerMain,
    "this-consumer-process-untraced": await buildProcessContestant(outDir, true),
  };
}
