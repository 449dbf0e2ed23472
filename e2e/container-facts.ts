// What a running container actually enforces on its main process, read from inside it: the image has
// no shell, so `podman exec` runs its Node with a short script that reads /proc/1 (the consumer itself,
// PID 1 as in a pod), its cgroup and the mounted token, and tries to write where nothing may be written.
import type { RunningContainer } from "./container";

export interface ContainerFacts {
  /** /proc/1/status fields: Uid and Gid (real, effective, saved, filesystem), capability sets, NoNewPrivs, Seccomp. */
  readonly status: Readonly<Record<"Uid" | "Gid" | "CapEff" | "CapPrm" | "CapBnd" | "NoNewPrivs" | "Seccomp", string>>;
  /** Memory limit in bytes; null when unlimited. */
  readonly memoryLimitBytes: number | null;
  /** CFS quota and period in microseconds; quota null when unlimited. */
  readonly cpuQuotaUs: number | null;
  readonly cpuPeriodUs: number | null;
  /** cgroup v1 cpu.shares, or the cgroup v2 cpu.weight runc derives from it. */
  readonly cpuShares: number | null;
  readonly cpuWeight: number | null;
  /** For each directory, "ok" or the error code of writing a file there. */
  readonly writable: Readonly<Record<string, string>>;
  /** The token file's owner, group and permission bits (octal), or the error code of reading it. */
  readonly token: {
    readonly uid: number;
    readonly gid: number;
    readonly mode: string;
    readonly readable: string;
  } | null;
}

const SCRIPT = `
const fs = require("node:fs");
const [tokenFile, ...dirs] = process.argv.slice(1);
const status = Object.fromEntries(fs.readFileSync("/proc/1/status", "utf8").split("\\n").filter(Boolean)
  .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()]));
const read = (...paths) => { for (const path of paths) { try { return fs.readFileSync(path, "utf8").trim(); } catch {} } return null; };
const number = (text) => (text === null || text === "max" || text === "-1" ? null : Number(text));
const cpuMax = read("/sys/fs/cgroup/cpu.max");
const attempt = (action) => { try { action(); return "ok"; } catch (error) { return error.code; } };
const writable = Object.fromEntries(dirs.map((dir) => [dir, attempt(() => { fs.writeFileSync(dir + "/.e2e-write-check", "x"); fs.unlinkSync(dir + "/.e2e-write-check"); })]));
let token = null;
if (tokenFile) { const s = fs.statSync(tokenFile); token = { uid: s.uid, gid: s.gid, mode: (s.mode & 0o777).toString(8), readable: attempt(() => fs.readFileSync(tokenFile)) }; }
const pick = (keys) => Object.fromEntries(keys.map((key) => [key, status[key]]));
console.log(JSON.stringify({
  status: pick(["Uid", "Gid", "CapEff", "CapPrm", "CapBnd", "NoNewPrivs", "Seccomp"]),
  memoryLimitBytes: number(read("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max")),
  cpuQuotaUs: cpuMax === null ? number(read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")) : number(cpuMax.split(" ")[0]),
  cpuPeriodUs: cpuMax === null ? number(read("/sys/fs/cgroup/cpu/cpu.cfs_period_us")) : number(cpuMax.split(" ")[1]),
  cpuShares: number(read("/sys/fs/cgroup/cpu/cpu.shares")),
  cpuWeight: number(read("/sys/fs/cgroup/cpu.weight")),
  writable,
  token,
}));
`;

/** Reads the facts of a running container whose image has Node at `node`. `tokenFile` "" skips the token. */
export async function readContainerFacts(
  container: RunningContainer,
  node: string,
  tokenFile: string,
  dirs: readonly string[],
): Promise<ContainerFacts> {
  return JSON.parse(await container.exec([node, "-e", SCRIPT, tokenFile, ...dirs])) as ContainerFacts;
}
