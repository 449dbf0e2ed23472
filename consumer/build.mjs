// Bundles the consumer with the user's handler (consumer/handler.ts, and the npm packages it imports,
// declared in consumer/package.json) into one file, dist/main.js, that runs with plain `node` and needs
// no node_modules. The version banner's build info is injected here, so the image knows what it is.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { checkHandlerExports } from "./src/handler-exports.mts";

const here = dirname(fileURLToPath(import.meta.url));
// `--outfile <path>` lets tests build a private copy; everyone else gets dist/main.js. `--metafile <path>`
// writes esbuild's record of every input the bundle was built from.
const option = (name) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const outfile = option("--outfile") ?? join(here, "dist/main.js");
const metafileOut = option("--metafile");
const pkg = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));

// The handler file must export exactly one of handleMessage and handleBatch: checked here, from its export
// names as esbuild reads them (the file is not run), as the consumer checks it at start-up.
const handlerFile = join(here, "handler.ts");
const handlerName = relative(join(here, ".."), handlerFile);
const exportsOf = await build({
  entryPoints: [handlerFile],
  bundle: true,
  packages: "external",
  platform: "node",
  format: "esm",
  write: false,
  metafile: true,
  logLevel: "silent",
  outdir: "handler-exports",
}).catch((error) => {
  console.error(`${handlerName}: ${error.message}`);
  process.exit(1);
});
const names = Object.values(exportsOf.metafile.outputs).find((output) => output.entryPoint)?.exports ?? [];
const handlerCheck = checkHandlerExports(names);
if (!handlerCheck.ok) {
  console.error(`${handlerName}: ${handlerCheck.reason}`);
  process.exit(1);
}

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

const bundled = await build({
  entryPoints: [join(here, "src/main.ts")],
  outfile,
  metafile: metafileOut !== undefined,
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
if (metafileOut !== undefined) writeFileSync(metafileOut, JSON.stringify(bundled.metafile));
console.log(
  `built ${outfile} (${buildInfo.name} ${buildInfo.version}, commit ${buildInfo.commit}; ${handlerName} exports ${handlerCheck.form})`,
);
