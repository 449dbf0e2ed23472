/**
 * What `sqs_consumer_messages_in_flight` counts, and that its help text says so: on a FIFO queue it
 * includes the messages this pod holds (invisible to others) while they wait behind an earlier message
 * of their group, not only those whose handler runs.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { startFifoTestBed } from "./helpers/fifo-test-bed";
import { eventually } from "./helpers/queue";
import { startTestConsumer } from "./helpers/test-bed";

test("FIFO: the in-flight gauge counts a group's waiting messages, and its help text says it does", async () => {
  const bed = await startFifoTestBed();
  after(() => bed.close());
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let running = 0;
  const { running: consumer } = await startTestConsumer(bed, {
    env: { WAIT_TIME_SECONDS: "1" },
    handler: async () => {
      running++;
      await gate;
      running--;
    },
  });
  try {
    await bed.send("g1", ["g1-m1", "g1-m2", "g1-m3"]);
    const metrics = async () => (await fetch(`http://127.0.0.1:${consumer.healthPort}/metrics`)).text();
    await eventually(
      async () => /^sqs_consumer_messages_in_flight 3$/m.test(await metrics()),
      10_000,
      "3 messages held",
    );
    assert.equal(running, 1, "one handler runs; the group's other two wait behind it");
    const help = /^# HELP sqs_consumer_messages_in_flight (.*)$/m.exec(await metrics())?.[1] ?? "";
    assert.match(help, /FIFO/);
    assert.match(help, /wait(ing)? behind/);
    assert.doesNotMatch(help, /^Messages being handled now\.$/);
  } finally {
    release();
    await consumer.stop();
  }
});
