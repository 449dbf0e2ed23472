// A handler whose CPU-bound work runs in a worker thread, so the event loop stays free for the
// visibility heartbeat, deletes and health probes while it computes (docs/CONSUMER.md).
import { createHash } from "node:crypto";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import type { MessageHandler } from "../src";

/** The CPU-bound part: hashes `text` `rounds` times (SHA-256, hex). Runs in the worker, never on the event loop. */
export function digest(text: string, rounds: number): string {
  let value = text;
  for (let i = 0; i < rounds; i++) value = createHash("sha256").update(value).digest("hex");
  return value;
}

/** Runs `digest` in a worker thread of its own, ended when `signal` aborts (the handler timeout, shutdown). */
export function digestInWorker(text: string, rounds: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(__filename, { workerData: { text, rounds } });
    const abort = (): void => void worker.terminate();
    signal.addEventListener("abort", abort, { once: true });
    worker.once("message", (result: string) => resolve(result));
    worker.once("error", reject);
    worker.once("exit", (code) => {
      signal.removeEventListener("abort", abort);
      reject(new Error(`the worker exited with code ${code} before it answered`));
    });
  });
}

if (!isMainThread) {
  const { text, rounds } = workerData as { text: string; rounds: number };
  parentPort?.postMessage(digest(text, rounds));
}

/** The handler: waits for the worker, the event loop free meanwhile. */
export const handler: MessageHandler = async (message, { signal, logger }) => {
  const result = await digestInWorker(message.body, 100_000, signal);
  logger.info({ messageId: message.messageId, digest: result }, "digest computed");
};
