// Builds images with buildah and runs containers with podman, for the end-to-end run. The run options
// are named after the Kubernetes pod-spec fields they stand for, so a test can turn a rendered
// Deployment into a container run field by field. Storage (vfs) and engine settings (runc, ulimits)
// come from e2e/containers/*.conf; e2e/base-images.sh installs the tools and the base images.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { createInterface } from "node:readline";
import { withoutDigests } from "../scripts/base-images";
import { LineLog } from "./line-log";

/** Points podman and buildah at this project's container storage and engine settings. */
export const CONTAINERS_ENV = {
  CONTAINERS_STORAGE_CONF: join(__dirname, "containers", "storage.conf"),
  CONTAINERS_CONF: join(__dirname, "containers", "containers.conf"),
} as const;

interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runCommand(command: "podman" | "buildah", args: readonly string[]): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...CONTAINERS_ENV },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", (error) => reject(notInstalled(command, error)));
    child.on("close", (code) => resolve({ exitCode: code ?? 1, stdout, stderr }));
  });
}

async function runChecked(command: "podman" | "buildah", args: readonly string[]): Promise<CommandResult> {
  const result = await runCommand(command, args);
  if (result.exitCode !== 0) {
    const output = lastLines(result.stdout + result.stderr, 40);
    throw new Error(`${command} ${args.join(" ")} exited ${result.exitCode}:\n${output}`);
  }
  return result;
}

function notInstalled(command: string, error: Error): Error {
  return (error as NodeJS.ErrnoException).code === "ENOENT"
    ? new Error(`${command} is not installed: run 'bash e2e/base-images.sh' as root first`, { cause: error })
    : error;
}

function lastLines(text: string, count: number): string {
  return text.trimEnd().split("\n").slice(-count).join("\n");
}

/** True when the image is in this project's container storage. */
export async function imageExists(reference: string): Promise<boolean> {
  return (await runCommand("podman", ["image", "exists", reference])).exitCode === 0;
}

async function imageId(reference: string): Promise<string | undefined> {
  const result = await runCommand("podman", ["image", "inspect", "--format", "{{.Id}}", reference]);
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

export interface BuildImageOptions {
  /** Path of the Dockerfile. */
  readonly dockerfile: string;
  /** Directory sent as the build context; the Dockerfile's COPY sources are relative to it. */
  readonly context: string;
  /** Name and tag for the result, e.g. `localhost/sqs-eks-consumer:e2e`. */
  readonly tag: string;
  /** Values for the Dockerfile's ARG instructions; default none. */
  readonly buildArgs?: Readonly<Record<string, string>>;
}

export interface BuiltImage {
  readonly id: string;
  readonly tag: string;
  /** Wall-clock seconds the build took. */
  readonly seconds: number;
  /** Everything buildah printed, for a failing test to show. */
  readonly log: string;
}

/**
 * Builds an image with `buildah bud`. RUN steps use the host network (so `npm ci` reaches the
 * registry), base images must already be in storage (never pulled), and no intermediate layers are
 * kept: with vfs every layer is a full copy of the root filesystem, which made a cached rebuild
 * slower than building from scratch. The Dockerfile is built as written except for its FROM digests,
 * which are dropped: the stand-in base images carry the tags, not upstream's digests.
 */
export async function buildImage(options: BuildImageOptions): Promise<BuiltImage> {
  const started = performance.now();
  const previousId = await imageId(options.tag);
  const scratch = await mkdtemp(join(tmpdir(), "e2e-build-"));
  try {
    const idFile = join(scratch, "image-id");
    const dockerfile = join(scratch, "Dockerfile");
    await writeFile(dockerfile, withoutDigests(await readFile(options.dockerfile, "utf8")));
    const buildArgs = Object.entries(options.buildArgs ?? {}).flatMap(([name, value]) => [
      "--build-arg",
      `${name}=${value}`,
    ]);
    const result = await runChecked("buildah", [
      "bud",
      "--network",
      "host",
      "--pull=never",
      "--layers=false",
      "--iidfile",
      idFile,
      "--file",
      dockerfile,
      "--tag",
      options.tag,
      ...buildArgs,
      options.context,
    ]);
    const id = (await readFile(idFile, "utf8")).trim().replace(/^sha256:/, "");
    if (previousId !== undefined && previousId !== id) {
      // The image this tag named before is now untagged; vfs would keep its full copy forever. A
      // container still using it keeps it, and that is fine: removing that container frees it later.
      await runCommand("podman", ["rmi", previousId]);
    }
    return { id, tag: options.tag, seconds: (performance.now() - started) / 1000, log: result.stdout + result.stderr };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** A hostPath-like mount: `volumeMounts[].mountPath` with `readOnly`. */
export interface VolumeMount {
  /** Absolute path on this machine. */
  readonly source: string;
  /** Absolute path in the container (the pod spec's mountPath). */
  readonly target: string;
  /** The pod spec's `readOnly`. */
  readonly readOnly: boolean;
}

/**
 * How to run a container, one field per pod-spec field it stands for. Seccomp `RuntimeDefault` needs
 * no field: podman applies its default profile unless told otherwise, and nothing here tells it.
 */
export interface RunContainerOptions {
  /** Image reference; must be in storage already (never pulled). */
  readonly image: string;
  /** Container name; a leftover container of that name is removed first. */
  readonly name: string;
  /** `env`: variables added to the image's own; default none. */
  readonly env?: Readonly<Record<string, string>>;
  /** `securityContext.runAsUser` / `runAsGroup`; default the image's USER. */
  readonly user?: { readonly uid: number; readonly gid: number };
  /** `securityContext.readOnlyRootFilesystem`; default false. */
  readonly readOnlyRootFs?: boolean;
  /** `securityContext.capabilities.drop`, e.g. `["ALL"]`; default none dropped. */
  readonly capDrop?: readonly string[];
  /** `securityContext.allowPrivilegeEscalation: false`; default false (escalation allowed). */
  readonly noNewPrivileges?: boolean;
  /** `args`: appended to the image's ENTRYPOINT; default none. */
  readonly args?: readonly string[];
  /** `volumeMounts` with their volumes' host paths; default none. */
  readonly mounts?: readonly VolumeMount[];
  /** `resources`: what the kubelet puts in the container's cgroup; default no limits. */
  readonly resources?: CgroupResources;
  /** Pods here share the host's network: the emulators listen on loopback. */
  readonly network: "host";
}

/** A container's `resources`, in the units the kubelet converts them from. */
export interface CgroupResources {
  /** `limits.memory` in bytes: the memory limit, with no swap on top (Kubernetes nodes run without swap). */
  readonly memoryLimitBytes?: number;
  /** `limits.cpu` in millicores: a CFS quota per 100 ms period. */
  readonly cpuLimitMillicores?: number;
  /** `requests.cpu` in millicores: the CPU weight (cpu.shares). */
  readonly cpuRequestMillicores?: number;
}

/** The kubelet's CFS period, and its conversions (pkg/kubelet/cm: MilliCPUToQuota, MilliCPUToShares). */
const CFS_PERIOD_US = 100_000;
const MIN_QUOTA_US = 1_000;
const MIN_SHARES = 2;
const MAX_SHARES = 262_144;

export interface StopResult {
  /** The container's exit code (137 when it had to be killed). */
  readonly exitCode: number;
  /** Seconds from sending SIGTERM to the container having exited. */
  readonly seconds: number;
}

export interface RunningContainer {
  readonly name: string;
  /** What the container writes to stdout, line by line (the consumer's JSON log). */
  readonly stdout: LineLog;
  /** What the container, or podman about it, writes to stderr. */
  readonly stderr: LineLog;
  /** Resolves with podman's exit code when the container has exited (or failed to start). */
  readonly exited: Promise<number>;
  /**
   * Sends SIGTERM and waits up to `timeoutSeconds` before SIGKILL, as the kubelet does with
   * `terminationGracePeriodSeconds`.
   */
  stop(timeoutSeconds: number): Promise<StopResult>;
  /** Runs a command in the running container (`podman exec`, with the container's user and settings); returns its stdout. */
  exec(command: readonly string[]): Promise<string>;
  /** Removes the container, killing it if it still runs. */
  remove(): Promise<void>;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CAPABILITY = /^[A-Z_]+$/;

function optionProblems(options: RunContainerOptions): string[] {
  const problems: string[] = [];
  if (!NAME.test(options.name)) problems.push(`name: '${options.name}' is not a valid container name`);
  for (const key of Object.keys(options.env ?? {})) {
    if (!ENV_NAME.test(key)) problems.push(`env.${key}: not a valid environment variable name`);
  }
  if (options.user !== undefined) {
    for (const [field, id] of Object.entries(options.user)) {
      if (!Number.isInteger(id) || id < 0) problems.push(`user.${field}: ${id} is not a non-negative integer`);
    }
  }
  for (const capability of options.capDrop ?? []) {
    if (!CAPABILITY.test(capability))
      problems.push(`capDrop: '${capability}' is not a capability name like ALL or NET_RAW`);
  }
  for (const [field, value] of Object.entries(options.resources ?? {})) {
    if (!Number.isInteger(value) || (value as number) <= 0)
      problems.push(`resources.${field}: ${value} is not a positive integer`);
  }
  (options.mounts ?? []).forEach((mount, index) => {
    for (const field of ["source", "target"] as const) {
      const path = mount[field];
      if (!isAbsolute(path) || /[:,]/.test(path)) {
        problems.push(`mounts[${index}].${field}: '${path}' must be absolute, without ':' or ','`);
      }
    }
  });
  return problems;
}

function podmanRunArgs(options: RunContainerOptions): string[] {
  const args = ["run", "--name", options.name, "--pull=never", "--network", options.network];
  if (options.user !== undefined) args.push("--user", `${options.user.uid}:${options.user.gid}`);
  if (options.readOnlyRootFs === true) {
    // podman's --read-only also mounts tmpfs on /tmp, /var/tmp and /run by default; Kubernetes'
    // readOnlyRootFilesystem does not, so neither does this: a process that writes to /tmp fails here
    // as it would in the cluster, instead of passing here and failing there.
    args.push("--read-only", "--read-only-tmpfs=false");
  }
  for (const capability of options.capDrop ?? []) args.push(`--cap-drop=${capability}`);
  if (options.noNewPrivileges === true) args.push("--security-opt=no-new-privileges");
  const { memoryLimitBytes, cpuLimitMillicores, cpuRequestMillicores } = options.resources ?? {};
  if (memoryLimitBytes !== undefined) args.push(`--memory=${memoryLimitBytes}b`, `--memory-swap=${memoryLimitBytes}b`);
  if (cpuLimitMillicores !== undefined) {
    args.push(
      `--cpu-period=${CFS_PERIOD_US}`,
      `--cpu-quota=${Math.max(MIN_QUOTA_US, (cpuLimitMillicores * CFS_PERIOD_US) / 1000)}`,
    );
  }
  if (cpuRequestMillicores !== undefined) {
    args.push(
      `--cpu-shares=${Math.min(MAX_SHARES, Math.max(MIN_SHARES, Math.floor((cpuRequestMillicores * 1024) / 1000)))}`,
    );
  }
  for (const mount of options.mounts ?? []) {
    args.push("--volume", `${mount.source}:${mount.target}:${mount.readOnly ? "ro" : "rw"}`);
  }
  for (const [name, value] of Object.entries(options.env ?? {})) args.push("--env", `${name}=${value}`);
  args.push(options.image, ...(options.args ?? []));
  return args;
}

function lineLogOf(stream: NodeJS.ReadableStream): LineLog {
  const log = new LineLog();
  const reader = createInterface({ input: stream, crlfDelay: Infinity });
  reader.on("line", (line) => log.push(line));
  reader.on("close", () => log.end());
  return log;
}

/**
 * Starts a container in the foreground of a podman process and returns at once; wait for a line on
 * `stdout` to know it is ready. Node in the image runs as PID 1, as in a pod: no init process is added.
 */
export async function runContainer(options: RunContainerOptions): Promise<RunningContainer> {
  const problems = optionProblems(options);
  if (problems.length > 0) throw new Error(`invalid container options:\n  ${problems.join("\n  ")}`);
  await runChecked("podman", ["rm", "--force", "--ignore", options.name]);

  const child = spawn("podman", podmanRunArgs(options), {
    env: { ...process.env, ...CONTAINERS_ENV },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout = lineLogOf(child.stdout);
  const stderr = lineLogOf(child.stderr);
  // Never rejects, so that a test which does not await it cannot crash on an unhandled rejection.
  const exited = new Promise<number>((resolve) => {
    child.on("error", (error) => {
      stderr.push(notInstalled("podman", error).message);
      stderr.end();
      resolve(127);
    });
    child.on("close", (code) => resolve(code ?? 1));
  });

  return {
    name: options.name,
    stdout,
    stderr,
    exited,
    async stop(timeoutSeconds: number): Promise<StopResult> {
      const started = performance.now();
      await runChecked("podman", ["stop", "--time", String(timeoutSeconds), options.name]);
      const seconds = (performance.now() - started) / 1000;
      await exited;
      const state = await runChecked("podman", ["inspect", "--format", "{{.State.ExitCode}}", options.name]);
      return { exitCode: Number(state.stdout.trim()), seconds };
    },
    async exec(command: readonly string[]): Promise<string> {
      return (await runChecked("podman", ["exec", options.name, ...command])).stdout;
    },
    async remove(): Promise<void> {
      await runChecked("podman", ["rm", "--force", "--ignore", options.name]);
      await exited;
    },
  };
}
