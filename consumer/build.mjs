// Bundles the consumer with the user's handler (consumer/handler.ts, and the npm packages it imports,
// declared in consumer/package.json) into one file, dist/main.js, that runs with plain `node` and needs
// no node_modules. Before that it checks the handler file as the consumer checks it at start-up, and
// what it imports against what the image's build stage has. The version banner's build info is
// injected here, so the image knows what it is.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { checkHandlerExports, describeLoadError } from "./src/handler-exports.mts";
import { checkImageInputs } from "./src/image-context.mts";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
// `--outfile <path>` lets tests build a private copy; everyone else gets dist/main.js. `--metafile <path>`
// writes esbuild's record of every input the bundle was built from.
const option = (name) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const outfile = option("--outfile") ?? join(here, "dist/main.js");
const metafileOut = option("--metafile");
const pkg = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));

const handlerFile = join(here, "handler.ts");
const handlerName = relative(root, handlerFile);
// Where the compiled handler file is loaded from (step 3): inside consumer/, so that its packages resolve
// as they do for the consumer, and named before compiling, so that its source map points back at handler.ts.
mkdirSync(join(here, "dist"), { recursive: true });
const scratch = mkdtempSync(join(here, "dist", "handler-check-"));
const checkFile = join(scratch, "handler.cjs");
/** Stops the build with one line on stderr. */
const fail = (line) => {
  rmSync(scratch, { recursive: true, force: true });
  console.error(line);
  process.exit(1);
};
/** A load error (describeLoadError) as one line: the place, or the handler file, and the reason. */
const failLoading = ({ at, reason }) => fail(`${at ?? handlerName}: ${reason}`);

// 1. The handler file alone, compiled as the image's bundle compiles it (CommonJS, Node 24), with its
// npm packages left as imports: a syntax error or top-level await stops here, naming file and place.
const compiled = await build({
  entryPoints: [handlerFile],
  absWorkingDir: root,
  bundle: true,
  packages: "external",
  platform: "node",
  target: "node24",
  format: "cjs",
  sourcemap: "inline",
  write: false,
  metafile: true,
  logLevel: "silent",
  outfile: checkFile,
}).catch((error) => {
  const [first] = error.errors ?? [];
  const at = first?.location;
  failLoading(
    describeLoadError(
      at ? new Error(`${join(root, at.file)}:${at.line}:${at.column}: ERROR: ${first.text}`) : error,
      root,
    ),
  );
});

// 2. What it imports, against what the image's build stage will have. Skipped inside that stage, where
// the Dockerfile and .dockerignore are not copied: what is there is what this checks.
const dockerfilePath = join(here, "Dockerfile");
const dockerignorePath = join(root, ".dockerignore");
if (existsSync(dockerfilePath) && existsSync(dockerignorePath)) {
  const problems = checkImageInputs(compiled.metafile, {
    dockerfile: readFileSync(dockerfilePath, "utf8"),
    dockerignore: readFileSync(dockerignorePath, "utf8"),
    declared: new Set(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })),
    builtin: isBuiltin,
  });
  if (problems.length > 0)
    fail(problems.map((p) => `${p.importer}: imports "${p.imported}", which ${p.reason}`).join("\n"));
}

// 3. Its exports, as the consumer checks them at start-up: the compiled file is loaded in a child
// process (its top level runs, as it will at start-up) and each export described.
writeFileSync(checkFile, compiled.outputFiles[0].contents);
const describe = `
  let out;
  try {
    const m = require(process.argv[1]);
    const names = Object.keys(m);
    out = { names, values: Object.fromEntries(names.map((n) => [n, { type: typeof m[n], length: typeof m[n] === "function" ? m[n].length : undefined }])) };
  } catch (error) {
    out = { error: { name: error?.name, message: String(error?.message ?? error), stack: String(error?.stack ?? "") } };
  }
  process.stdout.write(JSON.stringify(out), () => process.exit(0));
`;
let loaded;
try {
  loaded = JSON.parse(
    execFileSync(process.execPath, ["--enable-source-maps", "-e", describe, checkFile], {
      cwd: here,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 30_000,
    }),
  );
} catch (error) {
  loaded = { error: { message: `loading it did not finish: ${error.message.split("\n")[0]}` } };
}
if (loaded.error) failLoading(describeLoadError(Object.assign(new Error(loaded.error.message), loaded.error), root));
rmSync(scratch, { recursive: true, force: true });
const handlerCheck = checkHandlerExports(loaded.names, (name) => loaded.values[name]);
if (!handlerCheck.ok) fail(`${handlerName}: ${handlerCheck.reason}`);

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

mkdirSync(dirname(outfile), { recursive: true });
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
