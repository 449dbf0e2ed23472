// The documented way to run CPU-bound work (consumer/examples/cpu-bound-handler.ts): it computes in a
// worker thread while the event loop stays free, and docs/CONSUMER.md shows that very file.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { digest, digestInWorker } from "../examples/cpu-bound-handler";

const repo = join(__dirname, "..", "..");

describe("CPU-bound work in a worker thread", () => {
  test("the worker's answer is the computation's, and the event loop is never blocked meanwhile", async () => {
    assert.equal(await digestInWorker("body", 3, new AbortController().signal), digest("body", 3));
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const started = Date.now();
    // Long enough to block the loop for about a second if it ran on it.
    await digestInWorker("body", 300_000, new AbortController().signal);
    const tookMs = Date.now() - started;
    delay.disable();
    const maxDelayMs = delay.max / 1e6;
    assert.ok(tookMs > 200, `the computation took ${tookMs} ms: too short to tell`);
    assert.ok(maxDelayMs < tookMs / 2, `the event loop was blocked ${maxDelayMs} ms of ${tookMs}`);
  });

  test("an aborted signal ends the worker", async () => {
    const controller = new AbortController();
    const running = digestInWorker("body", 1e9, controller.signal);
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(running, /exited with code/);
  });

  test("docs/CONSUMER.md shows the example as it is", () => {
    const example = readFileSync(join(repo, "consumer", "examples", "cpu-bound-handler.ts"), "utf8");
    const docs = readFileSync(join(repo, "docs", "CONSUMER.md"), "utf8");
    assert.ok(docs.includes("```ts\n" + example + "```\n"), "docs/CONSUMER.md's example differs from the file");
  });
});
