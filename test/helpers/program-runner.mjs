// Runs the Pulumi program once, under mocks, in this process, and writes what it registered as JSON.
//
//   node [--import tsx] test/helpers/program-runner.mjs <scenario.json> <result.json>
//
// The program is started by the Pulumi Node.js language host's own entry point
// (@pulumi/pulumi/cmd/run/run.js), from the repository root, exactly as `pulumi up` starts it: with
// PULUMI_NODEJS_TYPESCRIPT=true that entry point registers ts-node with the project's tsconfig.json and
// requires index.ts; with the "tsx" loader the process is started with --import tsx instead. The mocks
// (test/helpers/mocks.ts) are installed from the language host's programStarted callback, after the
// TypeScript loader is registered and before the program's first resource.
//
// The host's command-line wrapper (cmd/run/index.js) is not run: it parses the CLI's flags and dials the
// engine's gRPC monitor at load time; here the mocks stand in for the monitor, and run.js is called directly.
//
// Plain JavaScript on purpose: whichever TypeScript loader is under test must be the only one.
import { readFileSync, writeFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..", "..");
const require = createRequire(import.meta.url);

const [scenarioFile, resultFile] = process.argv.slice(2);
const scenario = JSON.parse(readFileSync(scenarioFile, "utf8"));

// What the language host receives from the CLI: the stack's config, and whether to load TypeScript itself.
process.env.PULUMI_CONFIG = JSON.stringify(scenario.config);
process.env.PULUMI_CONFIG_SECRET_KEYS = JSON.stringify([]);
process.env.PULUMI_NODEJS_TYPESCRIPT = scenario.loader === "ts-node" ? "true" : "false";
process.chdir(repoRoot);

const errors = [];
// Without an engine (under mocks) pulumi.log.warn writes to console.warn with this prefix: what `pulumi preview` shows.
const warnings = [];
const RUNTIME_WARNING = "warning: [runtime] ";
const consoleWarn = console.warn;
console.warn = (...args) => {
  const text = args.map(String).join(" ");
  if (text.startsWith(RUNTIME_WARNING)) warnings.push(text.slice(RUNTIME_WARNING.length));
  else consoleWarn(...args);
};
// Likewise pulumi.log.error, with this prefix: an error the program logged, which fails `pulumi preview` too.
const RUNTIME_ERROR = "error: [runtime] ";
const consoleError = console.error;
console.error = (...args) => {
  const text = args.map(String).join(" ");
  if (text.startsWith(RUNTIME_ERROR)) errors.push(text.slice(RUNTIME_ERROR.length));
  else consoleError(...args);
};
const messageOf = (err) => (err instanceof Error ? err.message : String(err));
let recorder;

// run.js reads one constant from the wrapper (the exit code it uses after a module load failure).
const wrapperPath = require.resolve("@pulumi/pulumi/cmd/run/index.js");
const wrapper = new Module(wrapperPath);
wrapper.filename = wrapperPath;
wrapper.loaded = true;
wrapper.exports = { nodeJSProcessExitedAfterLoggingUserActionableMessage: 32 };
require.cache[wrapperPath] = wrapper;

const { run } = require("@pulumi/pulumi/cmd/run/run.js");
const pulumi = require("@pulumi/pulumi");
try {
  await run(
    { _: ["."] },
    () => {
      recorder = require(path.join(here, "mocks.ts")).installMocks(scenario);
    },
    (err) => errors.push(messageOf(err)),
    () => false,
  );
} catch (err) {
  errors.push(messageOf(err));
}
// Registrations whose outputs nobody awaited may still be in flight.
await pulumi.runtime.waitForRPCs();

const result = recorder?.collect() ?? { resources: [], invokes: [], outputs: {}, secretOutputs: [] };
// Which TypeScript loaders this process actually had, so a test can tell ts-node really did the loading.
const loaded = Object.keys(require.cache);
const loaders = {
  tsNode: loaded.some((file) => file.includes(`${path.sep}ts-node@`) || file.includes(`${path.sep}ts-node${path.sep}`)),
  tsx: process.execArgv.join(" ").includes("tsx") || (process.env.NODE_OPTIONS ?? "").includes("tsx"),
};
writeFileSync(resultFile, JSON.stringify({ ...result, loaders, errors: [...new Set(errors)], warnings }));
process.exit(0);
