/**
 * `npm run keda-chart:mirror -- --region <region> [--upstream <url>]`: copies the KEDA chart the program
 * pins (`KEDA_CHART` in infra/keda.ts) from KEDA's HTTP chart repository into this account's ECR, where the
 * program renders it from (`kedaChartMirror`). Run by an administrator once per account and region, and
 * again for each new chart version (docs/DEPLOY.md, "Runtime pins").
 *
 * It refuses the archive unless the chart repository's `index.yaml` records the pinned SHA-256 for the
 * version and the downloaded bytes have that SHA-256; creates the ECR repository with immutable tags and
 * scan on push when it is missing, and refuses one with mutable tags; pushes with `helm push`, logged in
 * with a registry config of its own that it deletes afterwards; and then reads the pushed manifest back
 * to check that its chart layer is the verified archive. A version already in the mirror is checked the
 * same way and not pushed again. Needs `aws` (v2) and `helm` (3.8 or later: OCI support) on the PATH.
 *
 * Sources: Helm, "Use OCI-based registries" (`helm push <chart>.tgz oci://<registry>/<namespace>` stores
 * chart <name> at tag <version> in repository <namespace>/<name>; the chart layer has media type
 * `application/vnd.cncf.helm.chart.content.v1.tar+gzip` and holds the archive's bytes as they are, so its
 * digest is the archive's SHA-256); Helm, "The Chart Repository Guide" (`index.yaml`: `entries.<chart>[]`
 * with `version`, `digest` (SHA-256 of the archive) and `urls`, relative to the repository or absolute);
 * Amazon ECR User Guide, "Pushing a Helm chart" and "Image tag mutability" (an IMMUTABLE repository
 * refuses a push to an existing tag).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { PROJECT } from "../infra/config";
import { KEDA_CHART, kedaChartMirror } from "../infra/keda";

/** How long one download or one `aws`/`helm` call may take (ms) before the mirror gives up. */
export const CALL_TIMEOUT_MS = 60_000;

/** Media type of a Helm chart's content layer in an OCI manifest (Helm, "Use OCI-based registries"). */
export const HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

/** A pinned chart: what `KEDA_CHART` holds. */
export interface ChartPin {
  readonly chart: string;
  readonly version: string;
  /** The HTTP chart repository's base URL (its `index.yaml` lives under it). */
  readonly upstream: string;
  /** SHA-256 of the chart archive, lowercase hex. */
  readonly archiveSha256: string;
}

/** What to mirror where. */
export interface MirrorOptions {
  /** AWS region of the ECR registry. */
  readonly region: string;
  /**
   * The ECR repository, `<namespace>/<chart>` (helm push names the repository after the chart, so its last
   * segment must be the chart's name).
   */
  readonly repository: string;
  /** The chart; default `KEDA_CHART`. */
  readonly pin?: ChartPin;
  /** Deadline of each download and each `aws`/`helm` call (ms); default `CALL_TIMEOUT_MS`. */
  readonly timeoutMs?: number;
  /** Where to write progress; default stderr. */
  readonly log?: (line: string) => void;
}

/** The outcome: the chart's OCI reference and whether this run pushed it. */
export interface MirrorResult {
  readonly reference: string;
  readonly pushed: boolean;
}

interface CallResult {
  readonly stdout: string;
  readonly stderr: string;
}

class CallFailed extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

/** Runs a tool, rejecting with its stderr when it fails or outlives `timeoutMs`. */
type Call = (command: string, args: string[], input?: string, env?: NodeJS.ProcessEnv) => Promise<CallResult>;

function caller(timeoutMs: number): Call {
  return (command, args, input, env) =>
    new Promise((resolve, reject) => {
      const child = execFile(
        command,
        args,
        { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: env ?? process.env },
        (error, stdout, stderr) => {
          if (error)
            reject(
              new CallFailed(`${command} ${args[0] ?? ""} ${args[1] ?? ""}: ${stderr.trim() || error.message}`, stderr),
            );
          else resolve({ stdout, stderr });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
}

async function download(url: string, timeoutMs: number): Promise<Buffer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Downloads the pinned archive and returns its bytes, after checking that the chart repository's
 * `index.yaml` records the pinned digest for the version and that the bytes have it.
 * @throws Error naming the version and both digests when either check fails, or when a request fails or
 *   takes longer than `timeoutMs`.
 */
export async function verifiedArchive(pin: ChartPin, timeoutMs = CALL_TIMEOUT_MS): Promise<Buffer> {
  const base = pin.upstream.endsWith("/") ? pin.upstream : `${pin.upstream}/`;
  const index = parse((await download(new URL("index.yaml", base).href, timeoutMs)).toString("utf8")) as {
    entries?: Record<string, { version?: string; digest?: string; urls?: string[] }[]>;
  };
  const entry = index.entries?.[pin.chart]?.find((candidate) => candidate.version === pin.version);
  if (entry === undefined) throw new Error(`${base}index.yaml lists no ${pin.chart} ${pin.version}`);
  if (entry.digest !== pin.archiveSha256)
    throw new Error(
      `${base}index.yaml records digest ${entry.digest ?? "(none)"} for ${pin.chart} ${pin.version}, but ${pin.archiveSha256} is pinned: refusing it (was the version published again?)`,
    );
  const url = entry.urls?.[0];
  if (url === undefined) throw new Error(`${base}index.yaml gives no URL for ${pin.chart} ${pin.version}`);
  const href = new URL(url, base).href;
  const archive = await download(href, timeoutMs);
  const actual = sha256(archive);
  if (actual !== pin.archiveSha256)
    throw new Error(`${href} has SHA-256 ${actual}, but ${pin.archiveSha256} is pinned: refusing it`);
  return archive;
}

/** The chart layer's digest in the mirror's manifest for the version, or undefined when the tag is absent. */
async function mirroredLayer(
  call: Call,
  region: string,
  repository: string,
  version: string,
): Promise<string | undefined> {
  let manifest: string;
  try {
    manifest = (
      await call("aws", [
        "ecr",
        "batch-get-image",
        "--region",
        region,
        "--repository-name",
        repository,
        "--image-ids",
        `imageTag=${version}`,
        "--accepted-media-types",
        "application/vnd.oci.image.manifest.v1+json",
        "--query",
        "images[0].imageManifest",
        "--output",
        "text",
      ])
    ).stdout.trim();
  } catch (error) {
    throw new Error(`reading ${repository}:${version} back failed`, { cause: error });
  }
  // batch-get-image reports a missing tag in `failures`, so the query prints "None".
  if (manifest === "" || manifest === "None") return undefined;
  const layers = (JSON.parse(manifest) as { layers?: { mediaType?: string; digest?: string }[] }).layers ?? [];
  const chart = layers.find((layer) => layer.mediaType === HELM_CHART_LAYER);
  if (chart?.digest === undefined)
    throw new Error(`${repository}:${version} is not a Helm chart (no ${HELM_CHART_LAYER} layer)`);
  return chart.digest;
}

/** Makes sure the repository exists with immutable tags (creating it if missing). */
async function immutableRepository(
  call: Call,
  region: string,
  repository: string,
  log: (line: string) => void,
): Promise<void> {
  try {
    const mutability = (
      await call("aws", [
        "ecr",
        "describe-repositories",
        "--region",
        region,
        "--repository-names",
        repository,
        "--query",
        "repositories[0].imageTagMutability",
        "--output",
        "text",
      ])
    ).stdout.trim();
    if (mutability !== "IMMUTABLE")
      throw new Error(
        `ECR repository ${repository} has ${mutability} tags, so a version could be pushed again with other content; delete it (aws ecr delete-repository --repository-name ${repository} --force --region ${region}) and run the mirror again`,
      );
    return;
  } catch (error) {
    if (!(error instanceof CallFailed && error.stderr.includes("RepositoryNotFoundException"))) throw error;
  }
  log(`creating ECR repository ${repository} (immutable tags, scan on push)`);
  await call("aws", [
    "ecr",
    "create-repository",
    "--region",
    region,
    "--repository-name",
    repository,
    "--image-tag-mutability",
    "IMMUTABLE",
    "--image-scanning-configuration",
    "scanOnPush=true",
  ]);
}

/**
 * Mirrors the pinned chart into `<account>.dkr.ecr.<region>.amazonaws.com/<repository>` at tag `<version>`
 * (see the module's docstring for every check).
 * @throws Error naming what was refused: a digest mismatch, a mutable repository, a repository not named
 *   after the chart, a mirrored version whose chart layer is not the pinned archive, or a failed or
 *   timed-out call.
 */
export async function mirrorChart(options: MirrorOptions): Promise<MirrorResult> {
  const pin = options.pin ?? KEDA_CHART;
  const log = options.log ?? ((line: string) => console.error(line));
  const { region } = options;
  const timeoutMs = options.timeoutMs ?? CALL_TIMEOUT_MS;
  const call = caller(timeoutMs);
  const { repository } = options;
  if (path.posix.basename(repository) !== pin.chart || !repository.includes("/"))
    throw new Error(`helm push stores chart ${pin.chart} in <namespace>/${pin.chart}, not in ${repository}`);
  const want = `sha256:${pin.archiveSha256}`;
  const account = (
    await call("aws", ["sts", "get-caller-identity", "--query", "Account", "--output", "text"])
  ).stdout.trim();
  const registry = `${account}.dkr.ecr.${region}.amazonaws.com`;
  const reference = `oci://${registry}/${repository}`;

  await immutableRepository(call, region, repository, log);
  const existing = await mirroredLayer(call, region, repository, pin.version);
  if (existing !== undefined) {
    if (existing !== want)
      throw new Error(`${repository}:${pin.version} holds chart layer ${existing}, not the pinned archive ${want}`);
    log(`${reference}:${pin.version} already holds the pinned archive`);
    return { reference, pushed: false };
  }

  log(`downloading ${pin.chart} ${pin.version} from ${pin.upstream}`);
  const archive = await verifiedArchive(pin, timeoutMs);
  const dir = await mkdtemp(path.join(tmpdir(), "chart-mirror-"));
  try {
    const file = path.join(dir, `${pin.chart}-${pin.version}.tgz`);
    await writeFile(file, archive);
    // A registry config of this run's own: the ECR token never lands in the user's Helm config.
    const env = { ...process.env, HELM_REGISTRY_CONFIG: path.join(dir, "registry.json") };
    const password = (await call("aws", ["ecr", "get-login-password", "--region", region])).stdout.trim();
    await call("helm", ["registry", "login", registry, "--username", "AWS", "--password-stdin"], password, env);
    log(`pushing to ${reference}`);
    await call("helm", ["push", file, `oci://${registry}/${path.posix.dirname(repository)}`], undefined, env);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const pushed = await mirroredLayer(call, region, repository, pin.version);
  if (pushed !== want)
    throw new Error(
      `after the push, ${repository}:${pin.version} holds chart layer ${pushed ?? "(none)"}, not ${want}`,
    );
  log(`${reference}:${pin.version} holds the pinned archive ${want}`);
  return { reference, pushed: true };
}

if (require.main === module) {
  const { values } = parseArgs({
    options: { region: { type: "string" }, upstream: { type: "string" } },
  });
  if (values.region === undefined) {
    console.error("usage: npm run keda-chart:mirror -- --region <region> [--upstream <chart repository URL>]");
    process.exitCode = 64;
  } else {
    const pin = { ...KEDA_CHART, upstream: values.upstream ?? KEDA_CHART.upstream };
    mirrorChart({ region: values.region, repository: kedaChartMirror(PROJECT), pin }).catch((error: unknown) => {
      console.error(`keda-chart:mirror: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    });
  }
}
