import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { EmulatorCommand, EmulatorEvent, ServedRequest } from "./emulator-protocol";

/** What the emulator process reports about one watched run. */
export interface Watch {
  /** When the run's first ReceiveMessage reached the emulator (epoch ms). */
  readonly firstReceive: Promise<number>;
  /** When the queue first held at most `mark` messages (epoch ms); see EmulatorEvent "mark". */
  reached(mark: number): Promise<number>;
}

/** The orchestrator's handle on the emulator process. */
export interface EmulatorControl {
  readonly endpoint: string;
  readonly pid: number;
  watch(key: string, queueName: string, marks: readonly number[]): Watch;
  requests(key: string): Promise<readonly ServedRequest[]>;
  forget(key: string): void;
  /** Adds `ms` to every request signed with `key` whose operation starts with `operationPrefix` (forget ends it). */
  delay(key: string, operationPrefix: string, ms: number): void;
  stop(): Promise<void>;
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Starts emulator-process.ts (through tsx, like the orchestrator) and waits until it listens. */
export async function startEmulatorProcess(): Promise<EmulatorControl> {
  const child: ChildProcess = fork(join(__dirname, "emulator-process.ts"), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const firstReceives = new Map<string, Deferred<number>>();
  const marks = new Map<string, Map<number, Deferred<number>>>();
  const answers = new Map<number, Deferred<readonly ServedRequest[]>>();
  let nextId = 1;
  const ready = deferred<string>();
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`the emulator process exited (code ${code})`))),
  );
  exited.catch(() => undefined);

  child.on("message", (event: EmulatorEvent) => {
    switch (event.type) {
      case "ready":
        ready.resolve(event.endpoint);
        break;
      case "first-receive":
        firstReceives.get(event.key)?.resolve(event.at);
        break;
      case "mark":
        marks.get(event.key)?.get(event.mark)?.resolve(event.at);
        break;
      case "requests":
        answers.get(event.id)?.resolve(event.requests);
        answers.delete(event.id);
        break;
    }
  });
  const command = (message: EmulatorCommand): void => void child.send(message);
  const endpoint = await Promise.race([ready.promise, exited]);

  return {
    endpoint,
    pid: child.pid!,
    watch(key, queueName, wanted) {
      const first = deferred<number>();
      const byMark = new Map(wanted.map((mark) => [mark, deferred<number>()]));
      firstReceives.set(key, first);
      marks.set(key, byMark);
      command({ type: "watch", key, queueName, marks: wanted });
      return {
        firstReceive: Promise.race([first.promise, exited]),
        reached(mark) {
          const entry = byMark.get(mark);
          if (!entry) throw new Error(`mark ${mark} was not asked for`);
          return Promise.race([entry.promise, exited]);
        },
      };
    },
    requests(key) {
      const id = nextId++;
      const answer = deferred<readonly ServedRequest[]>();
      answers.set(id, answer);
      command({ type: "requests", id, key });
      return Promise.race([answer.promise, exited]);
    },
    forget(key) {
      firstReceives.delete(key);
      marks.delete(key);
      command({ type: "forget", key });
    },
    delay(key, operationPrefix, ms) {
      command({ type: "delay", key, operationPrefix, ms });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.disconnect();
      await gone;
    },
  };
}
