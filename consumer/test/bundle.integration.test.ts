import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import dockerignore from "@balena/dockerignore";
import { EXIT_INVALID_CONFIG } from "../src/app";
import { buildBundle, spawnConsumer } from "./helpers/consumer-process";
import { eventually, queueCounts, sendMessages } from "./helpers/queue";
import { startTestBed } from "./helpers/test-bed";

const consumerDir = join(__dirname, "..");

describe("the bundle the image ships", () => {
  let bundle: string;
  before(() => (bundle = buildBundle()));

  test("runs with plain node: the version banner is the first line and carries the build info", async () => {
    const bed = await startTestBed();
    const consumer = spawnConsumer(bundle, bed.env);
    try {
      await consumer.waitFor((l) => l.event === "config", 10_000, "start-up");
      const banner = consumer.lines[0]!;
      assert.equal(banner.event, "start");
      assert.equal(banner.name, "sqs-eks-consumer");
      assert.equal(
        banner.version,
        (JSON.parse(readFileSync(join(consumerDir, "package.json"), "utf8")) as { version: string }).version,
      );
      assert.equal(
        banner.commit,
        execFileSync("git", ["rev-parse", "HEAD"], { cwd: consumerDir, encoding: "utf8" }).trim(),
      );
      assert.ok(
        !Number.isNaN(Date.parse(String(banner.buildTime))),
        `buildTime ${String(banner.buildTime)} is not a timestamp`,
      );
      assert.equal(banner.node, process.version);
      assert.equal(banner.platform, process.platform);
      assert.equal(banner.arch, process.arch);

      await sendMessages(bed.sqs, bed.queue.queueUrl, ["Hello world!"]);
      const line = await consumer.waitFor((l) => l.event === "message", 5_000, "the message line");
      assert.equal(line.body, "Hello world!");
      await eventually(
        async () => (await queueCounts(bed.sqs, bed.queue.queueUrl)).inFlight === 0,
        3_000,
        "the delete",
      );
      assert.deepEqual(consumer.stray, [], "everything on stdout is JSON and nothing goes to stderr");
    } finally {
      consumer.child.kill("SIGTERM");
      assert.equal((await consumer.exited).code, 0);
      await bed.close();
    }
  });

  test("bad settings: exit 78 with one line naming every bad variable and why", async () => {
    const consumer = spawnConsumer(bundle, {
      QUEUE_URL: "sqs/orders",
      WAIT_TIME_SECONDS: "30",
      HANDLER_CONCURRENCY: "lots",
      LOG_LEVEL: "verbose",
      HEALTH_PORT: "70000",
    });
    const exit = await consumer.exited;
    assert.equal(exit.code, EXIT_INVALID_CONFIG);
    assert.equal(consumer.lines[0]!.event, "start", "the banner still comes first");
    const fatal = consumer.lines[1]!;
    assert.equal(fatal.level, "fatal");
    assert.equal(fatal.event, "invalid-config");
    assert.deepEqual(
      (fatal.problems as { key: string }[]).map((p) => p.key),
      ["QUEUE_URL", "WAIT_TIME_SECONDS", "HANDLER_CONCURRENCY", "LOG_LEVEL", "HEALTH_PORT"],
    );
    for (const fragment of [
      'QUEUE_URL: "sqs/orders" is not a URL',
      "WAIT_TIME_SECONDS: must be between 0 and 20 s, got 30",
      'HANDLER_CONCURRENCY: must be a whole number of messages, got "lots"',
      "LOG_LEVEL: must be one of",
      "HEALTH_PORT: must be between 0 and 65535 port, got 70000",
    ]) {
      assert.ok(String(fatal.msg).includes(fragment), `"${fragment}" missing from: ${String(fatal.msg)}`);
    }
    assert.equal(consumer.lines.length, 2);
  });

  test("the Dockerfile runs exactly this bundle, as a non-root user, on a runtime without a package manager", () => {
    const dockerfile = readFileSync(join(consumerDir, "Dockerfile"), "utf8");
    const build = readFileSync(join(consumerDir, "build.mjs"), "utf8");
    assert.match(build, /join\(here, "dist\/main\.js"\)/, "build.mjs no longer writes dist/main.js");
    const stages = dockerfile.split(/^FROM /m).slice(1);
    const runtime = stages.at(-1)!;
    assert.match(
      runtime,
      /^gcr\.io\/distroless\/nodejs24-debian12:nonroot/,
      "the runtime stage must be distroless Node 24",
    );
    const copy = /^COPY --from=bundle \/src\/consumer\/dist\/main\.js (\S+)$/m.exec(runtime);
    assert.ok(copy, "the runtime stage must copy the bundle from the build stage");
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(runtime);
    assert.ok(entrypoint, "exec-form ENTRYPOINT, so Node is PID 1 and gets SIGTERM");
    assert.deepEqual(JSON.parse(entrypoint[1]!), ["/nodejs/bin/node", copy[1]]);
    assert.match(runtime, /^USER 65532:65532$/m);
    assert.match(
      stages[0]!,
      /^RUN .*node consumer\/build\.mjs$/m,
      "the build stage must build with consumer/build.mjs",
    );
  });

  test("the image's build stage has every file the bundle is built from: the handler, its sources, and its npm packages", () => {
    // What esbuild read to build the bundle (its metafile), against what the image's build stage has: the
    // build context after .dockerignore (Docker's rules, as @balena/dockerignore implements them), the
    // files COPY puts in place before the build runs, and the packages `npm ci --workspace consumer`
    // installs: the consumer's dependencies and dev dependencies, and theirs, as the lockfile records them.
    const root = join(consumerDir, "..");
    const metafile = join(mkdtempSync(join(tmpdir(), "consumer-metafile-")), "meta.json");
    execFileSync(
      process.execPath,
      [join(consumerDir, "build.mjs"), "--outfile", join(metafile, "..", "main.js"), "--metafile", metafile],
      {
        stdio: "pipe",
      },
    );
    const inputs = Object.keys(
      (JSON.parse(readFileSync(metafile, "utf8")) as { inputs: Record<string, unknown> }).inputs,
    );
    // `<define:...>` inputs are the values build.mjs defines (the build info), not files.
    const sources = inputs.filter((input) => !input.includes("node_modules/") && !input.startsWith("<"));
    assert.ok(
      sources.includes("consumer/handler.ts"),
      `the bundle was not built from consumer/handler.ts: ${sources.join(", ")}`,
    );

    const ignored = dockerignore({}).add(readFileSync(join(root, ".dockerignore"), "utf8"));
    const dockerfile = readFileSync(join(consumerDir, "Dockerfile"), "utf8");
    const buildStage = dockerfile.split(/^FROM /m)[1]!.split(/^RUN .*node consumer\/build\.mjs$/m)[0]!;
    const copied = [...buildStage.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) =>
      m[1]!.trim().split(/\s+/).slice(0, -1),
    );
    for (const source of sources) {
      assert.ok(!ignored.ignores(source), `.dockerignore leaves ${source} out of the build context`);
      assert.ok(
        copied.some((path) => source === path || source.startsWith(`${path}/`)),
        `the build stage does not COPY ${source} before it builds (it copies ${copied.join(", ")})`,
      );
    }

    const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as {
      packages: Record<
        string,
        {
          dependencies?: Record<string, string>;
          devDependencies?: Record<string, string>;
          optionalDependencies?: Record<string, string>;
          peerDependencies?: Record<string, string>;
        }
      >;
    };
    /** The lockfile's entry for `name` as seen from the package at `from` (Node's lookup: nested first). */
    const resolve = (from: string, name: string): string | undefined => {
      for (
        let dir = from;
        ;
        dir = dir.includes("/node_modules/") ? dir.slice(0, dir.lastIndexOf("/node_modules/")) : ""
      ) {
        const candidate = dir === "" ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
        if (lock.packages[candidate]) return candidate;
        if (dir === "") return undefined;
      }
    };
    const installed = new Set<string>();
    const visit = (path: string, names: readonly string[]) => {
      for (const name of names) {
        const found = resolve(path, name);
        if (found === undefined || installed.has(found)) continue;
        installed.add(found);
        const entry = lock.packages[found]!;
        visit(found, Object.keys({ ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies }));
      }
    };
    const consumer = lock.packages.consumer!;
    visit("consumer", Object.keys({ ...consumer.dependencies, ...consumer.devDependencies }));
    const packageOf = (input: string) => /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1];
    const bundled = new Set(inputs.map(packageOf).filter((p): p is string => p !== undefined));
    assert.ok(bundled.size > 10, `only ${bundled.size} packages bundled: the metafile was not read`);
    for (const path of bundled)
      assert.ok(
        installed.has(path),
        `${path} is bundled but not a dependency of consumer/package.json: the image's npm ci will not install it`,
      );
  });
});
