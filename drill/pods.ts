// The drill's stand-in for a ReplicaSet: pods are consumer processes. Scaling out starts processes;
// scaling in sends SIGTERM to a randomly chosen pod (the HPA does not pick idle ones) and, as the
// kubelet does, SIGKILL if it outlives the termination grace period.
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { epochMs, startProcess, type RunningProcess } from "../harness";

/** What happened to one pod, for the report. Times are epoch ms. */
export interface PodRecord {
  readonly name: string;
  readonly logFile: string;
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
  private counter = 0;

  constructor(private readonly options: PodSetOptions) {}

  /** Pods counted as replicas: running and not terminating. */
  get replicas(): number {
    return this.live.size;
  }

  get terminating(): number {
    return this.terminatingPods.size;
  }

  /** Starts or terminates pods until `replicas` of them run. */
  scaleTo(replicas: number): void {
    while (this.live.size < replicas) this.start();
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

  private start(): void {
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
