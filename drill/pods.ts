// The drill's stand-in for a ReplicaSet: pods are consumer processes. Scaling out starts processes;
// scaling in sends SIGTERM to a randomly chosen pod (the HPA does not pick idle ones) and, as the
// kubelet does, SIGKILL if it outlives the termination grace period. With nodes (drill/nodes.ts), a pod
// no node has room for is Pending until the node launched for it is ready; it counts as a replica, as
// in Kubernetes, and a scale-in deletes Pending pods first (the ReplicaSet controller deletes unscheduled
// pods before running ones).
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { epochMs, startProcess, type RunningProcess } from "../harness";
import type { DrillNode, NodeFleet } from "./nodes";

/** What happened to one pod, for the report. Times are epoch ms. */
export interface PodRecord {
  readonly name: string;
  readonly logFile: string;
  /** When the ReplicaSet created the pod; equal to startedAt unless it waited for a node. */
  readonly createdAt: number;
  readonly startedAt: number;
  sigtermAt: number | undefined;
  exitedAt: number | undefined;
  exitCode: number | null | undefined;
  exitSignal: NodeJS.Signals | null | undefined;
  /** SIGKILLed at the end of the grace period. */
  killed: boolean;
  /** The last lines of its stderr, kept when it failed. */
  readonly stderrTail: string;
}

export interface PodSetOptions {
  /** The bundled pod (drill/bundle.ts). */
  readonly bundle: string;
  /** Where each pod's stdout (its JSON log) goes, one file per pod. */
  readonly logDir: string;
  /** The pod's whole environment: the emulator, the queue, credentials, the consumer's settings. */
  readonly env: Readonly<Record<string, string>>;
  /** terminationGracePeriodSeconds, in ms: SIGKILL after this. */
  readonly gracePeriodMs: number;
  /** A deterministic source of [0, 1) numbers, so a run's choice of victims can be replayed. */
  readonly random: () => number;
  /** A prefix for pod names, e.g. the run's name. */
  readonly prefix: string;
  /** The nodes pods are placed on; undefined: every pod starts at once (nodes always have room). */
  readonly nodes?: NodeFleet;
}

interface PendingPod {
  readonly timer: NodeJS.Timeout;
  readonly node: DrillNode;
}

interface LivePod {
  readonly record: PodRecord;
  readonly process: RunningProcess;
  /** Resolves once the exit is recorded and the pod left the live and terminating sets. */
  readonly exited: Promise<void>;
}

/** Pods of one deployment: the replica count is what runs and is not terminating, as in Kubernetes. */
export class PodSet {
  readonly records: PodRecord[] = [];
  private readonly live = new Set<LivePod>();
  private readonly terminatingPods = new Set<LivePod>();
  private readonly pendingPods = new Set<PendingPod>();
  private counter = 0;

  constructor(private readonly options: PodSetOptions) {}

  /** Pods counted as replicas: running and not terminating, or Pending for a node. */
  get replicas(): number {
    return this.live.size + this.pendingPods.size;
  }

  /** Pods waiting for a node. */
  get pending(): number {
    return this.pendingPods.size;
  }

  get terminating(): number {
    return this.terminatingPods.size;
  }

  /** Starts or terminates pods until `replicas` of them run. */
  scaleTo(replicas: number): void {
    while (this.replicas < replicas) this.create();
    while (this.pendingPods.size > 0 && this.replicas > replicas) this.cancel([...this.pendingPods].at(-1)!);
    while (this.live.size > replicas) {
      const pods = [...this.live];
      this.terminate(pods[Math.floor(this.options.random() * pods.length)]!);
    }
  }

  /** Resolves once no pod is terminating. */
  async settled(): Promise<void> {
    await Promise.all([...this.terminatingPods].map((pod) => pod.exited));
  }

  /** Pods that exited without being told to: a crash, which the report counts as a failure. */
  unexpectedExits(): PodRecord[] {
    return this.records.filter((r) => r.exitedAt !== undefined && r.sigtermAt === undefined);
  }

  /** A new pod: on a node with room now, or Pending until its node is ready. */
  private create(): void {
    const createdAt = epochMs();
    const node = this.options.nodes?.place(createdAt);
    if (node === undefined || node.readyAt <= createdAt) {
      this.start(createdAt, node);
      return;
    }
    const pending: PendingPod = {
      node,
      timer: setTimeout(() => {
        this.pendingPods.delete(pending);
        this.start(createdAt, node);
      }, node.readyAt - createdAt),
    };
    this.pendingPods.add(pending);
  }

  /** Deletes a Pending pod: it never ran, so it leaves no record. */
  private cancel(pending: PendingPod): void {
    clearTimeout(pending.timer);
    this.pendingPods.delete(pending);
    this.options.nodes?.release(pending.node);
  }

  private start(createdAt: number, node: DrillNode | undefined): void {
    const name = `${this.options.prefix}-${++this.counter}`;
    const logFile = join(this.options.logDir, `${name}.log`);
    const stdout = openSync(logFile, "w");
    const proc = startProcess(process.execPath, [this.options.bundle], {
      env: this.options.env,
      stdout,
      stderrTailChars: 2_000,
    });
    closeSync(stdout);
    const record: PodRecord = {
      name,
      logFile,
      createdAt,
      startedAt: epochMs(),
      sigtermAt: undefined,
      exitedAt: undefined,
      exitCode: undefined,
      exitSignal: undefined,
      killed: false,
      get stderrTail() {
        return proc.stderrTail();
      },
    };
    const exited = proc.exited.then(({ code, signal }) => {
      record.exitedAt = epochMs();
      record.exitCode = code;
      record.exitSignal = signal;
      this.live.delete(pod);
      this.terminatingPods.delete(pod);
      if (node !== undefined) this.options.nodes?.release(node);
    });
    const pod: LivePod = { record, process: proc, exited };
    this.records.push(record);
    this.live.add(pod);
  }

  private terminate(pod: LivePod): void {
    this.live.delete(pod);
    this.terminatingPods.add(pod);
    pod.record.sigtermAt = epochMs();
    pod.process.child.kill("SIGTERM");
    const kill = setTimeout(() => {
      pod.record.killed = true;
      pod.process.child.kill("SIGKILL");
    }, this.options.gracePeriodMs);
    void pod.exited.then(() => clearTimeout(kill));
  }

  /** Ends every pod at once (SIGKILL), for a run that failed: nothing left running. */
  async killAll(): Promise<void> {
    for (const pending of [...this.pendingPods]) this.cancel(pending);
    const all = [...this.live, ...this.terminatingPods];
    for (const pod of all) pod.process.child.kill("SIGKILL");
    await Promise.all(all.map((pod) => pod.exited));
  }
}

/** mulberry32: a small seeded generator, so a drill's victims can be replayed with `--seed`. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
