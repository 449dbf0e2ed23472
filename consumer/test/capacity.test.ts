import { test } from "node:test";
import assert from "node:assert/strict";
import { Capacity } from "../src/capacity";

/** Whether the promise has settled after pending I/O and timers of 0 ms have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setTimeout(resolve, 0));
  return done;
}

test("with enough free slots, a receive reserves a full batch at once", async () => {
  const capacity = new Capacity(100);
  assert.equal(await capacity.reserve(10), 10);
  assert.equal(capacity.free, 90);
});

test("when busy, a receive waits for a full batch of free slots rather than take the first one", async () => {
  const capacity = new Capacity(20, 60_000);
  assert.equal(await capacity.reserve(10), 10);
  assert.equal(await capacity.reserve(10), 10);
  const reserving = capacity.reserve(10);
  capacity.release(1);
  assert.equal(await settled(reserving), false, "took a single freed slot");
  capacity.release(8);
  assert.equal(await settled(reserving), false, "took 9 freed slots");
  capacity.release(1);
  assert.equal(await reserving, 10);
});

test("it waits for a full batch only so long, then takes what is free", async () => {
  const capacity = new Capacity(20, 20);
  await capacity.reserve(10);
  await capacity.reserve(10);
  capacity.release(3);
  assert.equal(await capacity.reserve(10), 3);
  assert.equal(capacity.free, 0);
});

test("a batch never exceeds the limit, and closing wakes waiting loops with nothing", async () => {
  const small = new Capacity(4, 60_000);
  assert.equal(await small.reserve(10), 4);
  const waiting = small.reserve(10);
  small.release(1);
  small.close();
  assert.equal(await waiting, 0);
  assert.equal(await small.reserve(10), 0);
});
