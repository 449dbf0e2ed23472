// The SQS emulator (fauxqs) in a process of its own, so its CPU is never charged to the consumers under
// test. It times every request signed with a watched access key (each run has its own key) and tells
// the orchestrator when a run's first receive arrives and when its queue has drained.
import type { EmulatorRequest } from "../consumer/local/emulator";
import { startEmulator } from "../consumer/local/emulator";
import { epochMs } from "./clock";
import type { EmulatorCommand, EmulatorEvent, ServedRequest } from "./emulator-protocol";

/** How often watched queues' depths are read: the resolution of depth marks other than 0. */
const DEPTH_POLL_MS = 10;

interface Watched {
  readonly queueName: string;
  /** Depth marks still to reach, highest first. */
  readonly marks: number[];
  readonly requests: ServedRequest[];
  firstReceiveSeen: boolean;
  lastDeleteAt: number | undefined;
}

const watched = new Map<string, Watched>();
/** Added latency by access key: requests whose operation starts with `operationPrefix` wait `ms`. */
const delays = new Map<string, { readonly operationPrefix: string; readonly ms: number }>();
const open = new WeakMap<EmulatorRequest, { watch: Watched; served: ServedRequest }>();

function send(event: EmulatorEvent): void {
  process.send?.(event);
}

async function main(): Promise<void> {
  const emulator = await startEmulator({
    configure(app) {
      app.addHook("preHandler", async (request) => {
        if (delays.size === 0) return;
        const key = /Credential=([^/]+)\//.exec(String(request.headers.authorization ?? ""))?.[1];
        const delay = key === undefined ? undefined : delays.get(key);
        const operation = String(request.headers["x-amz-target"] ?? "").slice("AmazonSQS.".length);
        if (delay && operation.startsWith(delay.operationPrefix))
          await new Promise((resolve) => setTimeout(resolve, delay.ms));
      });
    },
    onRequest(request) {
      const watch = request.accessKeyId === undefined ? undefined : watched.get(request.accessKeyId);
      if (!watch) return;
      const served: ServedRequest = { operation: request.operation, start: epochMs(), end: undefined };
      watch.requests.push(served);
      open.set(request, { watch, served });
      if (request.operation === "ReceiveMessage" && !watch.firstReceiveSeen) {
        watch.firstReceiveSeen = true;
        send({ type: "first-receive", key: request.accessKeyId!, at: served.start });
      }
    },
    onResponse(request) {
      const entry = open.get(request);
      if (!entry) return;
      entry.served.end = epochMs();
      if (entry.served.operation.startsWith("DeleteMessage")) entry.watch.lastDeleteAt = entry.served.end;
    },
  });

  let polling = false;
  const poll = setInterval(() => {
    if (polling || ![...watched.values()].some((w) => w.marks.length > 0)) return;
    polling = true;
    emulator
      .queueDepths()
      .then((depths) => {
        for (const [key, watch] of watched) {
          const depth = depths.get(watch.queueName);
          if (!depth) continue;
          const held = depth.visible + depth.inFlight + depth.delayed;
          while (watch.marks.length > 0 && held <= watch.marks[0]!) {
            const mark = watch.marks.shift()!;
            send({ type: "mark", key, mark, at: mark === 0 ? (watch.lastDeleteAt ?? epochMs()) : epochMs() });
          }
        }
      })
      .catch((error: unknown) => console.error("reading queue depths failed", error))
      .finally(() => (polling = false));
  }, DEPTH_POLL_MS);

  process.on("message", (command: EmulatorCommand) => {
    switch (command.type) {
      case "watch":
        watched.set(command.key, {
          queueName: command.queueName,
          marks: [...command.marks].sort((a, b) => b - a),
          requests: [],
          firstReceiveSeen: false,
          lastDeleteAt: undefined,
        });
        break;
      case "requests":
        send({ type: "requests", id: command.id, requests: watched.get(command.key)?.requests ?? [] });
        break;
      case "forget":
        watched.delete(command.key);
        delays.delete(command.key);
        break;
      case "delay":
        if (command.ms > 0) delays.set(command.key, { operationPrefix: command.operationPrefix, ms: command.ms });
        else delays.delete(command.key);
        break;
    }
  });
  // The orchestrator going away (even killed) closes the channel: stop with it.
  process.on("disconnect", () => {
    clearInterval(poll);
    void emulator.stop().finally(() => process.exit(0));
  });
  send({ type: "ready", endpoint: emulator.endpoint });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
