// A container-style memory limit for one contestant: Node's heap sized from the limit as the
// Deployment sizes it (consumer/src/contract/node-heap.ts), and, where this machine lets us, a hard limit from
// a cgroup of our own.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nodeHeapForMemoryLimit, nodeHeapOptions } from "../consumer/src/contract";

export interface MemoryLimit {
  readonly limitMiB: number;
  /** What enforces the hard limit, e.g. "cgroup v1 memory.limit_in_bytes"; undefined when nothing does. */
  readonly enforcedBy: string | undefined;
  /** Why there is no hard limit, when there is none. */
  readonly notEnforcedBecause: string | undefined;
  /** NODE_OPTIONS for the process, as the Deployment sets them for this limit. */
  readonly nodeOptions: string;
  /** The command that runs `command args` inside the limit (the same pid: the shell execs it). */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] };
  /** Peak memory the cgroup was charged (MiB) and how many processes the kernel killed for it, when there is a cgroup. */
  usage(): { peakMiB: number; oomKills: number } | undefined;
  /** Removes the cgroup; call after the process in it has exited. */
  remove(): void;
}

interface Cgroup {
  readonly dir: string;
  readonly version: 1 | 2;
}

/** Creates a child cgroup of our own with `limitMiB` as its hard memory limit, or explains why it cannot. */
function createCgroup(name: string, limitMiB: number): Cgroup | string {
  const bytes = String(limitMiB * 1024 * 1024);
  let membership: string;
  try {
    membership = readFileSync("/proc/self/cgroup", "utf8");
  } catch {
    return "no /proc/self/cgroup (not Linux?)";
  }
  const v1 = /^\d+:([^:]*\bmemory\b[^:]*):(.*)$/m.exec(membership);
  const v2 = /^0::(.*)$/m.exec(membership);
  let cgroup: Cgroup;
  if (v1) cgroup = { dir: join("/sys/fs/cgroup/memory", v1[2]!, name), version: 1 };
  else if (v2 && existsSync("/sys/fs/cgroup/cgroup.controllers"))
    cgroup = { dir: join("/sys/fs/cgroup", v2[1]!, name), version: 2 };
  else return "no cgroup memory controller found in /proc/self/cgroup";
  try {
    mkdirSync(cgroup.dir);
  } catch (error) {
    return `cannot create ${cgroup.dir}: ${(error as Error).message}`;
  }
  try {
    if (cgroup.version === 1) {
      writeFileSync(join(cgroup.dir, "memory.limit_in_bytes"), bytes);
      // Where swap accounting exists, forbid swapping past the limit too, as a container runtime does.
      if (existsSync(join(cgroup.dir, "memory.memsw.limit_in_bytes")))
        writeFileSync(join(cgroup.dir, "memory.memsw.limit_in_bytes"), bytes);
    } else {
      writeFileSync(join(cgroup.dir, "memory.max"), bytes);
      if (existsSync(join(cgroup.dir, "memory.swap.max"))) writeFileSync(join(cgroup.dir, "memory.swap.max"), "0");
    }
  } catch (error) {
    rmdirSync(cgroup.dir);
    return `cannot set the limit in ${cgroup.dir}: ${(error as Error).message}`;
  }
  return cgroup;
}

function readNumber(file: string, pattern?: RegExp): number {
  const text = readFileSync(file, "utf8");
  return Number(pattern ? (pattern.exec(text)?.[1] ?? NaN) : text.trim());
}

export function createMemoryLimit(name: string, limitMiB: number): MemoryLimit {
  const cgroup = createCgroup(name, limitMiB);
  const enforced = typeof cgroup === "object" ? cgroup : undefined;
  return {
    limitMiB,
    enforcedBy: enforced
      ? enforced.version === 1
        ? "cgroup v1 memory.limit_in_bytes"
        : "cgroup v2 memory.max"
      : undefined,
    notEnforcedBecause: typeof cgroup === "string" ? cgroup : undefined,
    nodeOptions: nodeHeapOptions(nodeHeapForMemoryLimit(limitMiB)),
    wrap(command, args) {
      if (!enforced) return { command, args: [...args] };
      return {
        command: "/bin/sh",
        args: ["-c", 'echo $$ > "$0" && exec "$@"', join(enforced.dir, "cgroup.procs"), command, ...args],
      };
    },
    usage() {
      if (!enforced) return undefined;
      if (enforced.version === 1) {
        return {
          peakMiB: readNumber(join(enforced.dir, "memory.max_usage_in_bytes")) / 1048576,
          oomKills: readNumber(join(enforced.dir, "memory.oom_control"), /^oom_kill (\d+)$/m),
        };
      }
      const peakFile = join(enforced.dir, "memory.peak");
      return {
        peakMiB: existsSync(peakFile) ? readNumber(peakFile) / 1048576 : NaN,
        oomKills: readNumber(join(enforced.dir, "memory.events"), /^oom_kill (\d+)$/m),
      };
    },
    remove() {
      if (enforced) rmdirSync(enforced.dir);
    },
  };
}
