// Proves the e2e machinery without the consumer: an image built like consumer/Dockerfile from the two
// stand-in base images runs under the restricted pod spec's settings (user 65532, read-only root
// filesystem, no capabilities, no privilege escalation, default seccomp, a read-only mount), serves
// HTTP on loopback and exits 0 on SIGTERM. Needs root and `bash e2e/base-images.sh` run first
// (`npm run e2e` runs both).
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { BuiltImage, RunContainerOptions, RunningContainer } from "./container";
import { buildImage, imageExists, runContainer } from "./container";

const BASE_IMAGES = ["docker.io/library/node:24-bookworm-slim", "gcr.io/distroless/nodejs24-debian12:nonroot"];
const FIXTURE = join(__dirname, "fixtures", "http-app");
// Containers have fixed names: one left behind by a killed run is replaced by the next run (runContainer
// removes a container of the same name first) instead of holding its image in storage forever.
const TOKEN_DIR_IN_CONTAINER = "/var/run/secrets/eks.amazonaws.com/serviceaccount";

/** What the fixture's GET /probe reports about its own process. */
interface Probe {
  uid: number;
  gid: number;
  node: string;
  args: string[];
  status: { CapEff: string; CapPrm: string; CapBnd: string; NoNewPrivs: string; Seccomp: string };
  writable: Record<string, string>;
  mountedFile: string | null;
  mountedDirWritable: string | null;
}

interface Listening {
  msg: "listening";
  port: number;
}

interface Started {
  container: RunningContainer;
  probe: Probe;
  /** Seconds from `podman run` to the "listening" line. */
  startSeconds: number;
}

async function startAndProbe(options: RunContainerOptions): Promise<Started> {
  const started = performance.now();
  const container = await runContainer(options);
  const line = await container.stdout.waitFor((text) => text.includes('"listening"'), 30_000, "'listening' log line");
  const startSeconds = (performance.now() - started) / 1000;
  const { port } = JSON.parse(line) as Listening;
  const response = await fetch(`http://127.0.0.1:${port}/probe`);
  assert.equal(response.status, 200);
  return { container, probe: (await response.json()) as Probe, startSeconds };
}

void describe("stand-in base images and container helpers", () => {
  let image: BuiltImage;
  let tokenDir: string;
  const containers: RunningContainer[] = [];

  before(async () => {
    for (const base of BASE_IMAGES) {
      assert.ok(await imageExists(base), `${base} is missing: run 'bash e2e/base-images.sh' as root first`);
    }
    tokenDir = await mkdtemp(join(tmpdir(), "e2e-token-"));
    await chmod(tokenDir, 0o755); // mkdtemp makes it 0700, which user 65532 could not enter
    await writeFile(join(tokenDir, "token"), "header.payload.signature", { mode: 0o644 });
  });

  after(async () => {
    for (const container of containers) await container.remove();
    await rm(tokenDir, { recursive: true, force: true });
  });

  void it("builds the fixture the way consumer/Dockerfile builds the consumer", async (t) => {
    image = await buildImage({
      dockerfile: join(FIXTURE, "Dockerfile"),
      context: FIXTURE,
      tag: "localhost/e2e-fixture-http-app:smoke",
    });
    t.diagnostic(`image build: ${image.seconds.toFixed(1)} s`);
    assert.match(image.id, /^[0-9a-f]{64}$/);
    assert.match(image.log, /added \d+ packages/, "npm ci ran in the node stand-in");
    assert.match(image.log, /built dist\/main\.js/, "the bundling step ran");
  });

  void it("runs it as the restricted pod spec does, and it exits 0 on SIGTERM", async (t) => {
    const { container, probe, startSeconds } = await startAndProbe({
      image: image.tag,
      name: "e2e-smoke-restricted",
      env: { PORT: "0", PROBE_FILE: `${TOKEN_DIR_IN_CONTAINER}/token` },
      user: { uid: 65532, gid: 65532 },
      readOnlyRootFs: true,
      capDrop: ["ALL"],
      noNewPrivileges: true,
      args: ["--from-pod-spec-args"],
      mounts: [{ source: tokenDir, target: TOKEN_DIR_IN_CONTAINER, readOnly: true }],
      network: "host",
    });
    containers.push(container);
    t.diagnostic(`container start to first log line: ${startSeconds.toFixed(2)} s`);

    assert.equal(probe.uid, 65532);
    assert.equal(probe.gid, 65532);
    assert.match(probe.node, /^v24\./);
    assert.deepEqual(probe.args, ["--from-pod-spec-args"]);
    assert.equal(probe.status.CapEff, "0000000000000000");
    assert.equal(probe.status.CapPrm, "0000000000000000");
    assert.equal(probe.status.CapBnd, "0000000000000000");
    assert.equal(probe.status.NoNewPrivs, "1");
    assert.equal(probe.status.Seccomp, "2", "seccomp filter mode: the runtime's default profile");
    // Read-only root without podman's extra tmpfs: /tmp is as unwritable as in the cluster.
    assert.deepEqual(probe.writable, { "/app": "EROFS", "/tmp": "EROFS", "/home/nonroot": "EROFS" });
    assert.equal(probe.mountedFile, "header.payload.signature");
    assert.equal(probe.mountedDirWritable, "EROFS");

    const stopped = await container.stop(10);
    t.diagnostic(`stop (SIGTERM to exit): ${stopped.seconds.toFixed(2)} s`);
    assert.equal(stopped.exitCode, 0);
    assert.ok(stopped.seconds < 5, `stopped in ${stopped.seconds} s, long before the 10 s grace period`);
    const messages = container.stdout.lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
    assert.deepEqual(messages, ["listening", "shutting down", "stopped"]);
  });

  void it("without those settings the same image gets podman's defaults, so the checks above can fail", async () => {
    const { container, probe } = await startAndProbe({
      image: image.tag,
      name: "e2e-smoke-defaults",
      env: { PORT: "0" },
      network: "host",
    });
    containers.push(container);

    assert.equal(probe.uid, 65532, "the image's own USER");
    assert.notEqual(probe.status.CapBnd, "0000000000000000");
    assert.equal(probe.status.NoNewPrivs, "0");
    // buildah creates WORKDIR /app owned by the base image's USER (65532), so only the read-only
    // root filesystem keeps the process from rewriting its own code.
    assert.deepEqual(probe.writable, { "/app": "ok", "/tmp": "ok", "/home/nonroot": "ok" });
    assert.equal((await container.stop(10)).exitCode, 0);
  });

  void it("rejects invalid options naming every bad one", async () => {
    await assert.rejects(
      runContainer({
        image: "unused",
        name: "-bad",
        env: { "NOT-A-NAME": "x" },
        user: { uid: -1, gid: 1.5 },
        capDrop: ["all"],
        mounts: [{ source: "relative", target: "/a:b", readOnly: true }],
        resources: { memoryLimitBytes: -1, cpuLimitMillicores: 0.5 },
        network: "host",
      }),
      (error: Error) => {
        const keys = [
          "name:",
          "env.NOT-A-NAME:",
          "user.uid:",
          "user.gid:",
          "capDrop:",
          "mounts[0].source:",
          "mounts[0].target:",
          "resources.memoryLimitBytes:",
          "resources.cpuLimitMillicores:",
        ];
        for (const key of keys) {
          assert.ok(error.message.includes(key), `message names ${key}: ${error.message}`);
        }
        return true;
      },
    );
  });
});
