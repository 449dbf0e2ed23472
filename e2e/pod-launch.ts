// Turns a pod template (after admission) into what starting one of its containers takes: the resolved
// environment, arguments, user, security settings, mounts, cgroup resources, probe targets and grace
// period. Then renders that either as podman options (the container run) or as a plain process's
// environment (the fast variant in `npm test`). Pure: no I/O.
//
// Every pod-spec field is either mapped, deliberately ignored (it only affects scheduling or the
// kubelet's bookkeeping), or reported as not modelled: a Deployment that gains a field this does not
// understand fails here, loudly, rather than being started without it.
import type { IContainer } from "kubernetes-models/v1/Container" with { "resolution-mode": "import" };
import type { IPodSecurityContext } from "kubernetes-models/v1/PodSecurityContext" with { "resolution-mode": "import" };
import type { IProbe } from "kubernetes-models/v1/Probe" with { "resolution-mode": "import" };
import type { ISecret } from "kubernetes-models/v1/Secret" with { "resolution-mode": "import" };
import type { IVolume } from "kubernetes-models/v1/Volume" with { "resolution-mode": "import" };
import type { RunContainerOptions } from "./container";
import type { AdmittedPod } from "./pod-identity-webhook";
import { cpuMillicores, memoryBytes } from "./quantity";

/** Where a probe's HTTP GET goes: the pod's own address (loopback here) on a resolved port. */
export interface ProbeTarget {
  readonly path: string;
  readonly port: number;
}

/** A volume mount, by the name of the volume it mounts. */
export interface LaunchMount {
  readonly volume: string;
  readonly mountPath: string;
  readonly readOnly: boolean;
}

/** A service account token the kubelet would project into a volume, for the caller to stand in for. */
export interface ProjectedToken {
  readonly volume: string;
  /** The file's path inside the volume. */
  readonly path: string;
  readonly audience: string;
  readonly expirationSeconds: number;
}

/** What the kubelet sets in the container's cgroup from `resources`. */
export interface LaunchResources {
  readonly memoryLimitBytes?: number;
  readonly cpuLimitMillicores?: number;
  /** The CPU request (the API server defaults it to the limit), which becomes the CPU weight. */
  readonly cpuRequestMillicores?: number;
}

/** One container of a pod, ready to start. */
export interface PodLaunch {
  readonly container: string;
  /** `env` with every `value` and `secretKeyRef` resolved; a later entry of the same name wins. */
  readonly env: Readonly<Record<string, string>>;
  readonly args: readonly string[];
  /** runAsUser/runAsGroup, the container's over the pod's. */
  readonly user?: { readonly uid: number; readonly gid: number };
  readonly readOnlyRootFs: boolean;
  readonly capDrop: readonly string[];
  /** allowPrivilegeEscalation: false. */
  readonly noNewPrivileges: boolean;
  readonly mounts: readonly LaunchMount[];
  readonly projectedTokens: readonly ProjectedToken[];
  readonly resources: LaunchResources;
  /** Named container ports. */
  readonly ports: Readonly<Record<string, number>>;
  readonly liveness?: ProbeTarget;
  readonly readiness?: ProbeTarget;
  /** The pod's terminationGracePeriodSeconds (Kubernetes' default 30 when unset). */
  readonly terminationGracePeriodSeconds: number;
}

const POD_FIELDS_MAPPED = new Set([
  "containers",
  "securityContext",
  "serviceAccountName",
  "terminationGracePeriodSeconds",
  "volumes",
]);
const POD_FIELDS_IGNORED = new Set([
  "affinity",
  "nodeSelector",
  "tolerations",
  "topologySpreadConstraints",
  "priorityClassName",
  "schedulerName",
  "restartPolicy",
  "dnsPolicy",
]);
const CONTAINER_FIELDS_MAPPED = new Set([
  "name",
  "image",
  "env",
  "args",
  "ports",
  "livenessProbe",
  "readinessProbe",
  "resources",
  "securityContext",
  "volumeMounts",
]);
const CONTAINER_FIELDS_IGNORED = new Set(["imagePullPolicy", "terminationMessagePath", "terminationMessagePolicy"]);
const POD_SECURITY_FIELDS = new Set(["runAsUser", "runAsGroup", "runAsNonRoot", "seccompProfile"]);
const CONTAINER_SECURITY_FIELDS = new Set([
  ...POD_SECURITY_FIELDS,
  "readOnlyRootFilesystem",
  "allowPrivilegeEscalation",
  "capabilities",
  "privileged",
]);
const PROBE_FIELDS_IGNORED = new Set([
  "initialDelaySeconds",
  "periodSeconds",
  "timeoutSeconds",
  "successThreshold",
  "failureThreshold",
  "terminationGracePeriodSeconds",
]);
const DEFAULT_TERMINATION_GRACE_SECONDS = 30;

/** Fields of `object` outside `mapped` and `ignored`, as "<where>.<field>: not modelled". */
function unmodelled(
  where: string,
  object: object | undefined,
  mapped: ReadonlySet<string>,
  ignored: ReadonlySet<string> = new Set(),
): string[] {
  return Object.keys(object ?? {})
    .filter((field) => !mapped.has(field) && !ignored.has(field))
    .map((field) => `${where}.${field}: not modelled`);
}

/**
 * Reads one container of an admitted pod (apply the webhook first) into a launch. Secrets are looked up
 * by name in the pod's namespace. Throws one error naming every field it cannot honour.
 */
export function podLaunch(pod: AdmittedPod, containerName: string, secrets: readonly ISecret[]): PodLaunch {
  const spec = pod.template.spec;
  if (spec === undefined) throw new Error("the pod template has no spec");
  const container = spec.containers.find((candidate) => candidate.name === containerName);
  if (container === undefined) {
    throw new Error(
      `no container '${containerName}' in the pod (it has ${spec.containers.map((c) => `'${c.name}'`).join(", ")})`,
    );
  }
  const at = `containers[${containerName}]`;
  const problems = [
    ...unmodelled("spec", spec, POD_FIELDS_MAPPED, POD_FIELDS_IGNORED),
    ...unmodelled(at, container, CONTAINER_FIELDS_MAPPED, CONTAINER_FIELDS_IGNORED),
  ];
  const record = <T>(result: { value: T; problems: string[] }): T => {
    problems.push(...result.problems);
    return result.value;
  };

  const env = record(resolveEnv(container, secrets, pod.namespace));
  const args = container.args ?? [];
  args.forEach((arg, index) => {
    if (arg.includes("$(")) problems.push(`${at}.args[${index}]: $(VAR) expansion is not modelled`);
  });
  const security = record(securitySettings(spec.securityContext, container, at));
  const volumes = record(mountedVolumes(spec.volumes ?? [], container, at));
  const resources = record(cgroupResources(container, at));
  const ports = Object.fromEntries(
    (container.ports ?? [])
      .filter((port) => port.name !== undefined)
      .map((port) => [port.name as string, port.containerPort]),
  );
  const liveness = record(probeTarget(container.livenessProbe, ports, `${at}.livenessProbe`));
  const readiness = record(probeTarget(container.readinessProbe, ports, `${at}.readinessProbe`));

  if (problems.length > 0) throw new Error(`cannot start ${at} as the pod spec says:\n  ${problems.join("\n  ")}`);
  return {
    container: containerName,
    env,
    args,
    ...security,
    ...volumes,
    resources,
    ports,
    ...(liveness === undefined ? {} : { liveness }),
    ...(readiness === undefined ? {} : { readiness }),
    terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_SECONDS,
  };
}

interface Checked<T> {
  readonly value: T;
  readonly problems: string[];
}

/**
 * The container's environment as the kubelet gives it: literal values, and `secretKeyRef`s read from
 * the Secret's `data` (base64) or `stringData` (which the API server merges over `data`).
 */
export function resolveEnv(
  container: IContainer,
  secrets: readonly ISecret[],
  namespace: string,
): Checked<Record<string, string>> {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  for (const variable of container.env ?? []) {
    const at = `containers[${container.name}].env.${variable.name}`;
    const source = variable.valueFrom;
    if (source === undefined) {
      const value = variable.value ?? "";
      if (value.includes("$(")) problems.push(`${at}: $(VAR) expansion is not modelled`);
      env[variable.name] = value;
      continue;
    }
    const reference = source.secretKeyRef;
    if (reference === undefined || Object.keys(source).length > 1) {
      problems.push(`${at}: valueFrom.${Object.keys(source).join("/")} is not modelled (only secretKeyRef)`);
      continue;
    }
    const secret = secrets.find(
      (candidate) =>
        candidate.metadata?.name === reference.name && (candidate.metadata?.namespace ?? namespace) === namespace,
    );
    const fromStringData = secret?.stringData?.[reference.key];
    const fromData = secret?.data?.[reference.key];
    const value =
      fromStringData ?? (fromData === undefined ? undefined : Buffer.from(fromData, "base64").toString("utf8"));
    if (value !== undefined) env[variable.name] = value;
    else if (reference.optional !== true) {
      problems.push(
        secret === undefined
          ? `${at}: no Secret ${namespace}/${reference.name}`
          : `${at}: Secret ${namespace}/${reference.name} has no key ${reference.key}`,
      );
    }
  }
  return { value: env, problems };
}

type SecuritySettings = Pick<PodLaunch, "user" | "readOnlyRootFs" | "capDrop" | "noNewPrivileges">;

function securitySettings(
  pod: IPodSecurityContext | undefined,
  container: IContainer,
  at: string,
): Checked<SecuritySettings> {
  const own = container.securityContext ?? {};
  const problems = [
    ...unmodelled("spec.securityContext", pod, POD_SECURITY_FIELDS),
    ...unmodelled(`${at}.securityContext`, own, CONTAINER_SECURITY_FIELDS),
  ];
  const uid = own.runAsUser ?? pod?.runAsUser;
  const gid = own.runAsGroup ?? pod?.runAsGroup;
  if ((uid === undefined) !== (gid === undefined))
    problems.push(`${at}: runAsUser without runAsGroup (or the reverse) is not modelled`);
  if ((own.runAsNonRoot ?? pod?.runAsNonRoot) === true) {
    if (uid === 0) problems.push(`${at}: runAsNonRoot with runAsUser 0: the kubelet would refuse to start it`);
    if (uid === undefined)
      problems.push(`${at}: runAsNonRoot without runAsUser (a check of the image's USER) is not modelled`);
  }
  if (own.privileged === true) problems.push(`${at}.securityContext.privileged: not modelled`);
  if ((own.capabilities?.add ?? []).length > 0) problems.push(`${at}.securityContext.capabilities.add: not modelled`);
  // podman applies its default seccomp profile unless told otherwise; Kubernetes applies none
  // (Unconfined) unless asked for RuntimeDefault, so only RuntimeDefault means the same in both.
  const seccomp = own.seccompProfile?.type ?? pod?.seccompProfile?.type;
  if (seccomp !== "RuntimeDefault")
    problems.push(`${at}: seccompProfile ${seccomp ?? "unset (Unconfined)"} is not modelled, only RuntimeDefault`);
  return {
    value: {
      ...(uid === undefined || gid === undefined ? {} : { user: { uid, gid } }),
      readOnlyRootFs: own.readOnlyRootFilesystem === true,
      capDrop: own.capabilities?.drop ?? [],
      noNewPrivileges: own.allowPrivilegeEscalation === false,
    },
    problems,
  };
}

function mountedVolumes(
  volumes: readonly IVolume[],
  container: IContainer,
  at: string,
): Checked<Pick<PodLaunch, "mounts" | "projectedTokens">> {
  const problems: string[] = [];
  const mounts: LaunchMount[] = [];
  const projectedTokens: ProjectedToken[] = [];
  for (const mount of container.volumeMounts ?? []) {
    const where = `${at}.volumeMounts[${mount.name}]`;
    problems.push(...unmodelled(where, mount, new Set(["name", "mountPath", "readOnly"])));
    const volume = volumes.find((candidate) => candidate.name === mount.name);
    if (volume === undefined) {
      problems.push(`${where}: no volume of that name in the pod`);
      continue;
    }
    const sources = volume.projected?.sources ?? [];
    const tokens = sources.map((source) => source.serviceAccountToken);
    if (
      Object.keys(volume).some((field) => field !== "name" && field !== "projected") ||
      sources.length === 0 ||
      tokens.some((token) => token === undefined)
    ) {
      problems.push(`volumes[${volume.name}]: only projected service account tokens are modelled`);
      continue;
    }
    mounts.push({ volume: volume.name, mountPath: mount.mountPath, readOnly: mount.readOnly === true });
    for (const token of tokens) {
      projectedTokens.push({
        volume: volume.name,
        path: token!.path,
        // The API server's defaults: its own identifier as the audience (none here), one hour.
        audience: token!.audience ?? "",
        expirationSeconds: token!.expirationSeconds ?? 3600,
      });
    }
  }
  return { value: { mounts, projectedTokens }, problems };
}

function cgroupResources(container: IContainer, at: string): Checked<LaunchResources> {
  const resources = container.resources ?? {};
  const problems = [
    ...unmodelled(`${at}.resources`, resources, new Set(["limits", "requests"])),
    ...unmodelled(`${at}.resources.limits`, resources.limits, new Set(["cpu", "memory"])),
    // A memory request only guides scheduling (and eviction); nothing in the cgroup reflects it.
    ...unmodelled(`${at}.resources.requests`, resources.requests, new Set(["cpu"]), new Set(["memory"])),
  ];
  const read = (
    field: string,
    quantity: string | number | undefined,
    parse: (q: string | number) => number,
  ): number | undefined => {
    if (quantity === undefined) return undefined;
    try {
      return parse(quantity);
    } catch (error) {
      problems.push(`${at}.resources.${field}: ${(error as Error).message}`);
      return undefined;
    }
  };
  const memoryLimitBytes = read("limits.memory", resources.limits?.memory, memoryBytes);
  const cpuLimitMillicores = read("limits.cpu", resources.limits?.cpu, cpuMillicores);
  const cpuRequestMillicores = read("requests.cpu", resources.requests?.cpu, cpuMillicores) ?? cpuLimitMillicores;
  return {
    value: {
      ...(memoryLimitBytes === undefined ? {} : { memoryLimitBytes }),
      ...(cpuLimitMillicores === undefined ? {} : { cpuLimitMillicores }),
      ...(cpuRequestMillicores === undefined ? {} : { cpuRequestMillicores }),
    },
    problems,
  };
}

function probeTarget(
  probe: IProbe | undefined,
  ports: Readonly<Record<string, number>>,
  at: string,
): Checked<ProbeTarget | undefined> {
  if (probe === undefined) return { value: undefined, problems: [] };
  const problems = unmodelled(at, probe, new Set(["httpGet"]), PROBE_FIELDS_IGNORED);
  const get = probe.httpGet;
  if (get === undefined)
    return { value: undefined, problems: [...problems, `${at}: only httpGet probes are modelled`] };
  problems.push(...unmodelled(`${at}.httpGet`, get, new Set(["path", "port", "scheme"])));
  if (get.scheme !== undefined && get.scheme !== "HTTP")
    problems.push(`${at}.httpGet.scheme: ${get.scheme} is not modelled`);
  const port = typeof get.port === "number" ? get.port : /^\d+$/.test(get.port) ? Number(get.port) : ports[get.port];
  if (port === undefined)
    return {
      value: undefined,
      problems: [...problems, `${at}.httpGet.port: the container has no port named '${get.port}'`],
    };
  return { value: { path: get.path ?? "/", port }, problems };
}

/**
 * Moves a named container port, and the variable that tells the process where to listen, to another
 * number: on the host network the rendered port may be taken. Only when the two agree to begin with,
 * so a rendering in which they disagree is still caught. Probes on that port follow it.
 */
export function movePort(launch: PodLaunch, portName: string, envName: string, port: number): PodLaunch {
  const from = launch.ports[portName];
  if (from === undefined) throw new Error(`the container has no port named '${portName}'`);
  if (launch.env[envName] !== String(from)) {
    throw new Error(
      `port '${portName}' is ${from} but ${envName} is ${launch.env[envName] ?? "unset"}: the probes would miss the server`,
    );
  }
  const follow = (target: ProbeTarget | undefined): ProbeTarget | undefined =>
    target?.port === from ? { ...target, port } : target;
  const liveness = follow(launch.liveness);
  const readiness = follow(launch.readiness);
  const { liveness: _liveness, readiness: _readiness, ...rest } = launch;
  return {
    ...rest,
    env: { ...launch.env, [envName]: String(port) },
    ports: { ...launch.ports, [portName]: port },
    ...(liveness === undefined ? {} : { liveness }),
    ...(readiness === undefined ? {} : { readiness }),
  };
}

/** What the machine running a launch supplies: host directories for volumes, and variables to add. */
export interface HostSide {
  /** A directory on this machine for each mounted volume, by volume name. */
  readonly volumeHostPaths: Readonly<Record<string, string>>;
  /** Variables the pod spec does not set (e.g. endpoint overrides); one it already sets is an error. */
  readonly extraEnv: Readonly<Record<string, string>>;
}

function withExtraEnv(launch: PodLaunch, host: HostSide): Record<string, string> {
  const clashes = Object.keys(host.extraEnv).filter((name) => name in launch.env);
  if (clashes.length > 0) throw new Error(`extra variables would override the pod spec's own: ${clashes.join(", ")}`);
  return { ...launch.env, ...host.extraEnv };
}

function hostPathOf(launch: PodLaunch, host: HostSide, mount: LaunchMount): string {
  const path = host.volumeHostPaths[mount.volume];
  if (path === undefined)
    throw new Error(
      `no host directory for volume '${mount.volume}' (mounted at ${mount.mountPath} in ${launch.container})`,
    );
  return path;
}

/** The podman run of a launch: the container's own settings, one for one, on the host network. */
export function toContainerRun(
  launch: PodLaunch,
  host: HostSide & { readonly image: string; readonly name: string },
): RunContainerOptions {
  return {
    image: host.image,
    name: host.name,
    env: withExtraEnv(launch, host),
    ...(launch.user === undefined ? {} : { user: launch.user }),
    readOnlyRootFs: launch.readOnlyRootFs,
    capDrop: launch.capDrop,
    noNewPrivileges: launch.noNewPrivileges,
    args: launch.args,
    mounts: launch.mounts.map((mount) => ({
      source: hostPathOf(launch, host, mount),
      target: mount.mountPath,
      readOnly: mount.readOnly,
    })),
    resources: launch.resources,
    network: "host",
  };
}

/** A launch as a plain process: its environment and arguments, and nothing a container would enforce. */
export interface ProcessLaunch {
  readonly env: Readonly<Record<string, string>>;
  readonly args: readonly string[];
}

/**
 * A launch as a plain process (no user, no read-only root, no capabilities, no cgroup: only the
 * container run proves those). Paths into mounted volumes, in variables and arguments, are rewritten
 * to the volumes' host directories, since a process has no mount namespace to put them in place.
 */
export function toProcessLaunch(launch: PodLaunch, host: HostSide): ProcessLaunch {
  const rewrites = launch.mounts.map((mount) => ({
    from: mount.mountPath.replace(/\/+$/, ""),
    to: hostPathOf(launch, host, mount),
  }));
  const rewrite = (value: string): string => {
    const match = rewrites.find(({ from }) => value === from || value.startsWith(`${from}/`));
    return match === undefined ? value : match.to + value.slice(match.from.length);
  };
  const env = withExtraEnv(launch, host);
  return {
    env: Object.fromEntries(Object.entries(env).map(([name, value]) => [name, rewrite(value)])),
    args: launch.args.map(rewrite),
  };
}
