/**
 * `npm run send` as a new user meets it next to `LOCAL_QUEUE_TYPE=fifo npm start`: when the queue it
 * looks for is not there (a different LOCAL_QUEUE_TYPE or port than npm start's), or a setting is wrong,
 * it says what it looked for, where, and what to change.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { createQueueWithDlq, emulatorClient, startEmulator, type Emulator } from "../local/emulator";
import { DEFAULT_TUNABLES } from "../src/settings";

const send = join(__dirname, "..", "local", "send.ts");

function runSend(
  env: Record<string, string>,
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", send, ...args],
      { env: { ...process.env, QUEUE_URL: "", ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe("npm run send against the local emulator", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ port: 0 });
    const sqs = emulatorClient(emulator.endpoint);
    await createQueueWithDlq(sqs, "sqs-eks-consumer-local", DEFAULT_TUNABLES, 5, true);
    sqs.destroy();
  });
  after(() => emulator.stop());

  test("sends to the FIFO queue with a group id, as the README says", async () => {
    const result = await runSend({ LOCAL_QUEUE_TYPE: "fifo", LOCAL_SQS_PORT: String(emulator.port) }, [
      "x",
      "3",
      "--group-id",
      "g1",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /sent 3 message\(s\) to .*sqs-eks-consumer-local\.fifo in group g1/);
  });

  test("without LOCAL_QUEUE_TYPE=fifo: names the queue it looked for, where, and the variable to set", async () => {
    const result = await runSend({ LOCAL_SQS_PORT: String(emulator.port) }, ["x", "1", "--group-id", "g1"]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(`no queue sqs-eks-consumer-local on the emulator at http://127\\.0\\.0\\.1:${emulator.port}`),
    );
    assert.match(result.stderr, /LOCAL_QUEUE_TYPE=fifo/);
  });

  test("a FIFO queue without --group-id, and an unknown LOCAL_QUEUE_TYPE, are refused with what to give", async () => {
    const noGroup = await runSend({ LOCAL_QUEUE_TYPE: "fifo", LOCAL_SQS_PORT: String(emulator.port) }, ["x", "1"]);
    assert.equal(noGroup.code, 1);
    assert.match(noGroup.stderr, /is a FIFO queue: give a message group with --group-id <id>/);
    const badType = await runSend({ LOCAL_QUEUE_TYPE: "Fifo", LOCAL_SQS_PORT: String(emulator.port) }, [
      "x",
      "1",
      "--group-id",
      "g1",
    ]);
    assert.equal(badType.code, 1);
    assert.match(badType.stderr, /LOCAL_QUEUE_TYPE must be standard or fifo, got "Fifo"/);
  });
});
