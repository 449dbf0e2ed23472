// Bundles the consumer into one file, dist/main.js, that runs with plain `node` and needs no
// node_modules. The version banner's build info is injected here, so the image knows what it is.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
// `--outfile <path>` lets tests build a private copy; everyone else gets dist/main.js.
const outfileArg = process.argv.indexOf("--outfile");
const outfile = outfileArg > 0 ? process.argv[outfileArg + 1] : join(here, "dist/main.js");
const pkg = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));

function gitCommit() {
  if (process.env.GIT_COMMIT) return process.env.GIT_COMMIT;
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], {
      cwd: here,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "unknown";
  }
}

const buildInfo = {
  name: "sqs-eks-consumer",
  version: pkg.version,
  commit: gitCommit(),
  buildTime: process.env.BUILD_TIME || new Date().toISOString(),
};

await build({
  entryPoints: [join(here, "src/main.ts")],
  outfile,
  bundle: true,
  platform: "node",
  target: "node24",
  format: "cjs",
  // Prefer the packages' ES module builds: esbuild can drop what the consumer never imports from them
  // (OpenTelemetry's semantic conventions and metrics code, most of the AWS SDK's unused paths),
  // which CommonJS builds do not allow.
  mainFields: ["module", "main"],
  keepNames: true,
  legalComments: "none",
  logLevel: "warning",
  define: { __BUILD_INFO__: JSON.stringify(buildInfo) },
});
console.log(`built ${outfile} (${buildInfo.name} ${buildInfo.version}, commit ${buildInfo.commit})`);
