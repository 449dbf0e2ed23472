import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  RECEIVE_CHARGE_BYTES,
  heldChargeBytes,
  messagesOfLargestSize,
  receiveChargeBytes,
  settingsWarnings,
  type DeploymentSettings,
} from "../src/contract";
import { MessageMemory, memoryLimit, messageTextBytes } from "../src/memory";

const MiB = 1_048_576;
const never = new AbortController().signal;

describe("the memory budget", () => {
  test("a receive reserves the worst case per message it asks for, and asks for no more than fits", async () => {
    const memory = new MessageMemory(35 * MiB, 10 * MiB);
    assert.equal(memory.largestReceive, 3);
    assert.equal(await memory.reserveReceive(10, never), 3, "room for three messages of 10 MiB");
    memory.releaseReceive(3);
    const charge = memory.hold(10 * MiB);
    assert.equal(charge, heldChargeBytes(10 * MiB));
    assert.ok(charge > 10 * MiB && charge < 25 * MiB);
    assert.equal(await memory.reserveReceive(10, never), 1, "beside a held message, room for one");
  });

  test("a receive waits for held messages to be released, in arrival order; an abort ends the wait with 0", async () => {
    const memory = new MessageMemory(30 * MiB, 10 * MiB);
    const charge = memory.hold(8 * MiB);
    assert.ok(charge > 10 * MiB && charge < 20 * MiB, "one receive charge fits beside it");
    assert.equal(await memory.reserveReceive(5, never), 1);
    const order: string[] = [];
    const first = memory.reserveReceive(5, never).then((n) => order.push(`first ${n}`));
    const aborted = new AbortController();
    const gone = memory.reserveReceive(5, aborted.signal);
    const third = memory.reserveReceive(5, never).then((n) => order.push(`third ${n}`));
    aborted.abort();
    assert.equal(await gone, 0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, [], "nothing fits until something is released");
    memory.release(charge);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, ["first 2"], "the first waiter takes what was freed");
    memory.releaseReceive(3);
    await Promise.all([first, third]);
    assert.deepEqual(order, ["first 2", "third 3"]);
  });

  test("a budget smaller than one receive still lets one message through when nothing else is charged", async () => {
    const memory = new MessageMemory(3 * MiB, 10 * MiB);
    assert.equal(await memory.reserveReceive(10, never), 1);
    const waiting = memory.reserveReceive(10, never);
    let answered = false;
    void waiting.then(() => (answered = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(answered, false, "a second one waits while the first is charged");
    memory.releaseReceive(1);
    assert.equal(await waiting, 1);
  });

  test("a budget that fits 5 receives of SQS's largest message fits 10 messages per receive once the queue's maximum is 262,144 bytes", async () => {
    // 128 MiB: the budget holds 5 receive charges of messages of 1 MiB (SQS quotas, "Message size").
    const memory = MessageMemory.forLimit({ bytes: 128 * MiB, source: "cgroup" });
    assert.equal(memory.largestReceive, 5);
    assert.equal(await memory.reserveReceive(10, never), 5, "SQS's largest message until the queue's maximum is known");
    memory.releaseReceive(5);
    assert.equal(memory.reserved, 0);
    // Queues created before 2025 accept at most 262,144 bytes: a quarter of the charge, so four times the messages.
    memory.useMaximumMessageSize(262_144);
    assert.equal(memory.receiveChargeBytes * 4, RECEIVE_CHARGE_BYTES);
    assert.equal(memory.largestReceive, 20);
    assert.equal(await memory.reserveReceive(10, never), 10, "the most a receive may ask SQS for");
  });

  test("a receive reserved before the charge changed releases exactly what it took", async () => {
    const memory = new MessageMemory(64 * MiB);
    assert.equal(await memory.reserveReceive(10, never), 5);
    const taken = memory.reserved;
    assert.equal(taken, 5 * RECEIVE_CHARGE_BYTES);
    // A receive waiting for room is granted at once by the smaller charge.
    const waiting = memory.reserveReceive(10, never);
    memory.useMaximumMessageSize(262_144);
    assert.equal(await waiting, 1, "one quarter charge fits beside the five taken at the old charge");
    assert.equal(memory.reserved, taken + RECEIVE_CHARGE_BYTES / 4);
    memory.releaseReceive(1);
    assert.equal(memory.reserved, taken, "the new receive frees what it took");
    memory.releaseReceive(5);
    assert.equal(memory.reserved, 0, "the old one frees what it took, not five quarter charges");
  });

  test("receives in progress under two charges: what stays reserved covers those still in progress, and all is freed", async () => {
    const memory = new MessageMemory(100 * MiB, 12 * MiB);
    assert.equal(await memory.reserveReceive(2, never), 2);
    memory.useMaximumMessageSize(262_144);
    assert.equal(await memory.reserveReceive(3, never), 3);
    assert.equal(memory.reserved, 2 * 12 * MiB + 3 * 3 * MiB);
    // The old receive ends first: the new one's 9 MiB must stay reserved, at least.
    memory.releaseReceive(2);
    assert.ok(memory.reserved >= 3 * 3 * MiB, `${memory.reserved} bytes stay reserved for three messages of 3 MiB`);
    memory.releaseReceive(3);
    assert.equal(memory.reserved, 0);
  });

  test("a held message larger than the queue's maximum sends the receive charge back to SQS's largest message", async () => {
    // SQS checks MaximumMessageSize when a message is sent (API Reference, SetQueueAttributes): messages
    // sent before the maximum was lowered stay on the queue as they are.
    const memory = MessageMemory.forLimit({ bytes: 128 * MiB, source: "cgroup" });
    const seen: Array<[number, number]> = [];
    memory.onLargerThanMaximum = (textBytes, maximum) => seen.push([textBytes, maximum]);
    memory.useMaximumMessageSize(262_144);
    memory.release(memory.hold(262_144));
    assert.equal(memory.largestReceive, 20, "a message of the queue's maximum is what the charge allows for");
    const charge = memory.hold(1_048_576);
    assert.deepEqual(seen, [[1_048_576, 262_144]]);
    assert.equal(memory.receiveChargeBytes, RECEIVE_CHARGE_BYTES);
    memory.release(charge);
    assert.equal(await memory.reserveReceive(10, never), 5, "receives are charged as for messages of 1 MiB again");
    memory.release(memory.hold(1_048_576));
    assert.equal(seen.length, 1, "said once");
  });

  test("the receive charge follows the queue's maximum up to SQS's largest message, never past it", () => {
    assert.equal(receiveChargeBytes(1_024) * 1_024, RECEIVE_CHARGE_BYTES, "the smallest maximum SQS allows");
    assert.equal(receiveChargeBytes(2 * MiB), RECEIVE_CHARGE_BYTES);
    assert.equal(receiveChargeBytes(Number.NaN), RECEIVE_CHARGE_BYTES, "an unreadable attribute: the largest");
    assert.equal(receiveChargeBytes(0), RECEIVE_CHARGE_BYTES);
  });

  test("text bytes: one per character for ASCII and Latin-1 text, two when any character is outside it", () => {
    assert.equal(messageTextBytes({ Body: "x".repeat(100) }), 100);
    assert.equal(messageTextBytes({ Body: "x".repeat(99) + "Ā" }), 200, "one wide character makes the string two-byte");
    assert.equal(messageTextBytes({ Body: "😀" }), 4, "a surrogate pair is two UTF-16 units");
    assert.equal(
      messageTextBytes({
        Body: "b",
        MessageAttributes: {
          kind: { DataType: "String", StringValue: "order" },
          blob: { DataType: "Binary", BinaryValue: new Uint8Array(7) },
        },
      }),
      1 + "kind".length + "order".length + "blob".length + 7,
    );
  });

  test("the memory limit: the cgroup's, unless V8's heap is sized for less; without either, the machine's", () => {
    const GiB = 1024 * MiB;
    // The contract's flags for 128 MiB give a heap_size_limit of 120 MiB: a heap for 160 MiB.
    assert.deepEqual(memoryLimit(128 * MiB, 120 * MiB, 16 * GiB), { bytes: 128 * MiB, source: "cgroup" });
    assert.deepEqual(memoryLimit(1 * GiB, 72 * MiB, 16 * GiB), { bytes: 96 * MiB, source: "heap" });
    assert.deepEqual(memoryLimit(0, 4 * GiB, 16 * GiB).source, "heap", "no cgroup limit");
    assert.deepEqual(memoryLimit(2 ** 64, 4 * GiB, 2 * GiB), { bytes: 2 * GiB, source: "heap" }, "the cgroup's max");
  });
});

describe("the preview warning states what the consumer does", () => {
  const at = (memoryLimitMiB: number, handlerConcurrency: number): DeploymentSettings => ({
    tunables: { handlerTimeoutSeconds: 20, shutdownBudgetSeconds: 25, handlerConcurrency },
    memoryLimitMiB,
    maxReceiveCount: 5,
  });
  const keyOf = (key: string) => `consumer.${key}`;

  test("96 handlers at 128 MiB: the warning names the messages of 1 MiB the budget holds", () => {
    const [warning, ...rest] = settingsWarnings(at(128, 96), keyOf);
    assert.deepEqual(rest, []);
    assert.equal(warning?.key, "consumer.handlerConcurrency");
    const held = Number(/holds at most (\d+) messages at once/.exec(warning.message)?.[1]);
    assert.equal(held, messagesOfLargestSize(128).held);
    const raise = Number(/raise the memory limit to at least (\d+) MiB/.exec(warning.message)?.[1]);
    assert.deepEqual(settingsWarnings(at(raise, 96), keyOf), [], "the memory limit it suggests is enough");
    assert.notDeepEqual(settingsWarnings(at(raise - 1, 96), keyOf), [], "and the least that is");
    assert.deepEqual(settingsWarnings(at(128, held), keyOf), [], "so is the concurrency it names");
  });

  test("a memory limit too small for one receive of a message of 1 MiB: a warning on the limit", () => {
    const [warning] = settingsWarnings(at(64, 1), keyOf);
    assert.equal(warning?.key, "consumer.memoryLimitMiB");
    assert.match(warning.message, /no room for a message of 1 MiB/);
    const raise = Number(/at least (\d+) MiB/.exec(warning.message)?.[1]);
    assert.ok(messagesOfLargestSize(raise).held >= 1 && messagesOfLargestSize(raise - 1).held === 0);
  });

  test("the defaults (100 handlers, 256 MiB) hold 100 messages of 1 MiB: no warning", () => {
    assert.deepEqual(settingsWarnings(at(256, 100), keyOf), []);
  });
});
