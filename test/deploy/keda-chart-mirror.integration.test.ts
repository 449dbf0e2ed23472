/**
 * The chart mirror (ci/keda-chart.ts) against a chart repository on loopback and stand-ins for `aws` and
 * `helm` that keep the registry's state the way ECR does: a repository's tag mutability, and each tag's chart
 * layer digest, which `helm push` makes the SHA-256 of the pushed archive (Helm, "Use OCI-based registries").
 * An IMMUTABLE repository refuses a push to an existing tag (Amazon ECR User Guide, "Image tag mutability").
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { stringify } from "yaml";
import { HELM_CHART_LAYER, mirrorChart, type ChartPin } from "../../ci/keda-chart";

const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const REPOSITORY = "proj/charts/keda";
const REGISTRY = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
const TOKEN = "ecr-token-0123456789";

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** ECR, as the `aws` CLI shows it: state in files under $MIRROR_STATE. Every call is logged. */
const AWS = `#!/usr/bin/env bash
printf '%s\\n' "aws $*" >> "$MIRROR_STATE/calls"
case "$1 $2" in
  "sts get-caller-identity") echo ${ACCOUNT} ;;
  "ecr describe-repositories")
    if [ -f "$MIRROR_STATE/mutability" ]; then cat "$MIRROR_STATE/mutability"
    else echo "An error occurred (RepositoryNotFoundException) when calling the DescribeRepositories operation" >&2; exit 254; fi ;;
  "ecr create-repository")
    while [ $# -gt 0 ]; do [ "$1" = "--image-tag-mutability" ] && echo "$2" > "$MIRROR_STATE/mutability"; shift; done ;;
  "ecr batch-get-image")
    if [ -f "$MIRROR_STATE/layer" ]; then
      printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"sha256:00","size":2},"layers":[{"mediaType":"${HELM_CHART_LAYER}","digest":"%s","size":1}]}\\n' "$(cat "$MIRROR_STATE/layer")"
    else echo None; fi ;;
  "ecr get-login-password") echo ${TOKEN} ;;
  *) echo "unexpected: aws $*" >&2; exit 2 ;;
esac
`;

/** Helm: login writes the registry config Helm would; push needs it, and obeys tag immutability. */
const HELM = `#!/usr/bin/env bash
printf '%s\\n' "helm $* HELM_REGISTRY_CONFIG=$HELM_REGISTRY_CONFIG" >> "$MIRROR_STATE/calls"
case "$1 $2" in
  "registry login") [ -n "$HELM_REGISTRY_CONFIG" ] || exit 3; printf '{"auths":{"%s":"%s"}}' "$3" "$(cat)" > "$HELM_REGISTRY_CONFIG" ;;
  push*)
    grep -q ${TOKEN} "$HELM_REGISTRY_CONFIG" 2>/dev/null || { echo "unauthorized" >&2; exit 1; }
    if [ -f "$MIRROR_STATE/layer" ] && grep -q IMMUTABLE "$MIRROR_STATE/mutability"; then echo "tag invalid: immutable" >&2; exit 1; fi
    echo "sha256:$(sha256sum "$2" | cut -d' ' -f1)" > "$MIRROR_STATE/layer" ;;
  *) echo "unexpected: helm $*" >&2; exit 2 ;;
esac
`;

const goodArchive = randomBytes(4096);
const pin = (base: string): ChartPin => ({
  chart: "keda",
  version: "9.9.9",
  upstream: `${base}/charts`,
  archiveSha256: sha256(goodArchive),
});

/** What the loopback chart repository serves, and the paths it was asked for. */
let served: { digest: string; archive: Buffer; url: string; hang: boolean };
let requests: string[];
let server: Server;
let base: string;
let state: string;
let originalPath: string | undefined;

before(async () => {
  server = createServer((request, response) => {
    requests.push(request.url ?? "");
    if (served.hang) return;
    if (request.url === "/charts/index.yaml") {
      const entry = { version: "9.9.9", digest: served.digest, urls: [served.url] };
      response.end(stringify({ apiVersion: "v1", entries: { keda: [{ ...entry, version: "9.9.8" }, entry] } }));
    } else if (request.url === "/charts/keda-9.9.9.tgz" || request.url === "/releases/v9.9.9/keda-9.9.9.tgz") {
      response.end(served.archive);
    } else {
      response.statusCode = 404;
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const bin = await mkdtemp(path.join(tmpdir(), "mirror-bin-"));
  await writeFile(path.join(bin, "aws"), AWS);
  await writeFile(path.join(bin, "helm"), HELM);
  await chmod(path.join(bin, "aws"), 0o755);
  await chmod(path.join(bin, "helm"), 0o755);
  originalPath = process.env.PATH;
  process.env.PATH = `${bin}:${originalPath ?? ""}`;
});

after(async () => {
  process.env.PATH = originalPath;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(async () => {
  served = { digest: sha256(goodArchive), archive: goodArchive, url: "keda-9.9.9.tgz", hang: false };
  requests = [];
  state = await mkdtemp(path.join(tmpdir(), "mirror-state-"));
  await writeFile(path.join(state, "calls"), "");
  process.env.MIRROR_STATE = state;
});

const calls = async () => (await readFile(path.join(state, "calls"), "utf8")).split("\n").filter(Boolean);
const mirror = (overrides: Partial<ChartPin> = {}) =>
  mirrorChart({ region: REGION, repository: REPOSITORY, pin: { ...pin(base), ...overrides }, log: () => {} });

describe("the KEDA chart mirror", () => {
  it("pushes the verified archive into a new repository with immutable tags, logged in with a throwaway registry config", async () => {
    const result = await mirror();
    assert.deepEqual(result, { reference: `oci://${REGISTRY}/${REPOSITORY}`, pushed: true });
    assert.equal((await readFile(path.join(state, "layer"), "utf8")).trim(), `sha256:${sha256(goodArchive)}`);
    assert.equal((await readFile(path.join(state, "mutability"), "utf8")).trim(), "IMMUTABLE");
    const log = await calls();
    const create = log.find((line) => line.startsWith("aws ecr create-repository"));
    assert.match(create ?? "", /--image-scanning-configuration scanOnPush=true/);
    const push = log.find((line) => line.startsWith("helm push"));
    assert.match(push ?? "", new RegExp(` oci://${REGISTRY}/proj/charts HELM_REGISTRY_CONFIG=`));
    // The token went through stdin, and the registry config that held it is gone.
    assert.ok(log.every((line) => !line.includes(TOKEN)));
    const config = /HELM_REGISTRY_CONFIG=(\S+)/.exec(push ?? "")?.[1];
    assert.ok(config !== undefined && config !== "" && !existsSync(config));
    assert.deepEqual(requests, ["/charts/index.yaml", "/charts/keda-9.9.9.tgz"]);
  });

  it("follows an absolute archive URL from index.yaml", async () => {
    served.url = `${base}/releases/v9.9.9/keda-9.9.9.tgz`;
    await mirror();
    assert.deepEqual(requests, ["/charts/index.yaml", "/releases/v9.9.9/keda-9.9.9.tgz"]);
  });

  it("refuses an archive whose bytes are not the pinned SHA-256, and pushes nothing", async () => {
    served.archive = Buffer.concat([goodArchive, Buffer.from("tampered")]);
    await assert.rejects(mirror(), /charts\/keda-9\.9\.9\.tgz has SHA-256 [0-9a-f]{64}, but [0-9a-f]{64} is pinned/);
    assert.ok((await calls()).every((line) => !line.startsWith("helm push")));
    assert.equal(existsSync(path.join(state, "layer")), false);
  });

  it("refuses a version whose index.yaml digest is not the pin, before downloading it", async () => {
    served.digest = "f".repeat(64);
    served.archive = Buffer.from("re-published");
    await assert.rejects(
      mirror(),
      new RegExp(`records digest f{64} for keda 9\\.9\\.9, but ${sha256(goodArchive)} is pinned`),
    );
    assert.deepEqual(requests, ["/charts/index.yaml"]);
    assert.ok((await calls()).every((line) => !line.startsWith("helm")));
  });

  it("refuses a version the chart repository does not list", async () => {
    await assert.rejects(mirror({ version: "9.9.7" }), /index\.yaml lists no keda 9\.9\.7/);
  });

  it("refuses an existing repository with mutable tags", async () => {
    await writeFile(path.join(state, "mutability"), "MUTABLE\n");
    await assert.rejects(mirror(), /ECR repository proj\/charts\/keda has MUTABLE tags/);
    assert.deepEqual(requests, []);
    assert.ok((await calls()).every((line) => !line.startsWith("helm")));
  });

  it("leaves a mirrored version alone when its chart layer is the pinned archive, without downloading", async () => {
    await mirror();
    requests = [];
    assert.deepEqual(await mirror(), { reference: `oci://${REGISTRY}/${REPOSITORY}`, pushed: false });
    assert.deepEqual(requests, []);
  });

  it("refuses a mirrored version whose chart layer is another archive", async () => {
    await writeFile(path.join(state, "mutability"), "IMMUTABLE\n");
    await writeFile(path.join(state, "layer"), `sha256:${"a".repeat(64)}\n`);
    await assert.rejects(mirror(), /proj\/charts\/keda:9\.9\.9 holds chart layer sha256:a{64}, not the pinned archive/);
  });

  it("refuses a repository that helm push would not fill (not named after the chart)", async () => {
    await assert.rejects(
      mirrorChart({ region: REGION, repository: "proj/charts/other", pin: pin(base), log: () => {} }),
      /helm push stores chart keda in <namespace>\/keda, not in proj\/charts\/other/,
    );
  });

  it("gives up on a chart repository that does not answer, at the deadline", async () => {
    served.hang = true;
    const started = Date.now();
    await assert.rejects(
      mirrorChart({ region: REGION, repository: REPOSITORY, pin: pin(base), timeoutMs: 300, log: () => {} }),
      /timeout|aborted/i,
    );
    assert.ok(Date.now() - started < 5_000);
  });
});

afterEach(async () => {
  await rm(state, { recursive: true, force: true });
});
