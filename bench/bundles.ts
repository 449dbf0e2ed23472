// Every contestant runs as one esbuild bundle under plain `node`, as the shipped consumer does: no
// TypeScript loader in any measured process, and the same module-loading cost model for all.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { build } from "esbuild";
import type { Contestant } from "./lineup";

const benchDir = __dirname;
const repoDir = join(benchDir, "..");

/** Every bundle: the contestants', and scenario H's consumer that holds its messages. */
export type BundlePaths = { readonly [K in Contestant["bundle"] | "heartbeat-holder"]: string };

/** The esbuild options of consumer/build.mjs, so code bundled here is compiled as the shipped consumer is. */
export const CONSUMER_BUNDLE_OPTIONS = {
  bundle: true,
  platform: "node",
  target: "node24",
  format: "cjs",
  keepNames: true,
  legalComments: "none",
  logLevel: "warning",
} as const;

export async function buildBundles(outDir: string): Promise<BundlePaths> {
  const entries = ["this-consumer", "sqs-consumer-message", "sqs-consumer-batch", "raw-loop", "heartbeat-holder"] as const;
  await build({
    entryPoints: entries.map((name) => join(benchDir, "contestants", `${name}.ts`)),
    outdir: outDir,
    ...CONSUMER_BUNDLE_OPTIONS,
  });
  // The shipped artefact, built by the consumer's own build script.
  const consumerMain = join(outDir, "consumer-main.js");
  execFileSync(process.execPath, [join(repoDir, "consumer", "build.mjs"), "--outfile", consumerMain], { stdio: "pipe" });
  return {
    "this-consumer": join(outDir, "this-consumer.js"),
    "sqs-consumer-message": join(outDir, "sqs-consumer-message.js"),
    "sqs-consumer-batch": join(outDir, "sqs-consumer-batch.js"),
    "raw-loop": join(outDir, "raw-loop.js"),
    "heartbeat-holder": join(outDir, "heartbeat-holder.js"),
    "consumer-main": consumerMain,
  };
}
