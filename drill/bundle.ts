import { join } from "node:path";
import { build } from "esbuild";
import { buildInfoDefine, CONSUMER_BUNDLE_OPTIONS } from "../harness";

/** Bundles drill/pod.ts into one file run by plain `node`, compiled as consumer/build.mjs compiles the consumer. */
export async function buildPodBundle(outDir: string): Promise<string> {
  const outfile = join(outDir, "drill-pod.js");
  await build({
    entryPoints: [join(__dirname, "pod.ts")],
    outfile,
    ...CONSUMER_BUNDLE_OPTIONS,
    define: buildInfoDefine({
      name: "sqs-eks-consumer-drill-pod",
      version: "drill",
      commit: "drill",
      buildTime: new Date().toISOString(),
    }),
  });
  return outfile;
}
