import { afterEach, beforeEach, mock, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { inFlightEntry, md5OfBody } from "../src/dispatch";
import { HandlerTimeoutError } from "../src/errors";
import { Capacity, Handling, type Reserver } from "../src/handle";
import type { BatchHandlerContext, HandlerContext } from "../src/handler";
import { testContext } from "./helpers/context";

// Capacity's waits for a full batch are timers: they run on mocked time (`mock.timers.tick`), while
// setImmediate, the turn a receive loop is served in, stays real.
beforeEach(() => mock.timers.enable({ apis: ["setTimeout"] }));
afterEach(() => mock.timers.reset());

/** One real turn of the event loop: pending grants to receive loops, and the promises they resolve. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Whether the promise has settled once the grants due now have been made. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await nextTurn();
  await nextTurn();
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
  const reserving = capacity.reserve(10);
  await nextTurn();
  mock.timers.tick(19);
  assert.equal(await settled(reserving), false, "took 3 slots before its fill wait was over");
  mock.timers.tick(1);
  assert.equal(await reserving, 3);
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

test("a held FIFO message's reservation goes ahead of receive loops that waited longer", async () => {
  const capacity = new Capacity(2, 60_000);
  await capacity.reserve(2);
  const order: string[] = [];
  const loop = capacity.reserve(2).then((n) => order.push(`loop:${n}`));
  const held = capacity.reserve(1, "held").then((n) => order.push(`held:${n}`));
  capacity.release(1);
  await held;
  capacity.release(1);
  capacity.release(1);
  await loop;
  assert.deepEqual(order, ["held:1", "loop:2"]);
});

test("a slot freed in the same turn as a held message reserves goes to it, not to a waiting receive loop", async () => {
  const capacity = new Capacity(1, 0);
  await capacity.reserve(1);
  let loop = 0;
  void capacity.reserve(10).then((n) => (loop = n));
  // As dispatch.ts does: the head's handler settles (its slot comes back), then its group's next message reserves.
  capacity.release(1);
  const held = capacity.reserve(1, "held");
  assert.equal(await held, 1);
  await nextTurn();
  assert.equal(loop, 0, "the receive loop took the slot the group's next message needed");
  capacity.release(1);
  await nextTurn();
  mock.timers.tick(0);
  await nextTurn();
  assert.equal(loop, 1);
});

test("on a standard queue (no held messages), a receive loop is served in the same turn, not the next", async () => {
  // Its next receive goes out while the messages it brought are handled; on FIFO queues it waits a turn.
  for (const heldFirst of [false, true]) {
    const capacity = new Capacity(100, 50, heldFirst);
    let granted = 0;
    void capacity.reserve(10).then((n) => (granted = n));
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(granted, heldFirst ? 0 : 10, `heldFirst ${heldFirst}`);
    await nextTurn();
    assert.equal(granted, 10);
  }
});

test("slots are counted, not conjured: releasing more than is taken throws; a reservation asks for at least 1", async () => {
  const capacity = new Capacity(2);
  await capacity.reserve(1);
  assert.throws(() => capacity.release(2), /freed twice/);
  assert.throws(() => void capacity.reserve(0), /at least 1/);
});

/** One step of a random schedule against Capacity. */
type Step =
  | { readonly kind: "reserve"; readonly max: number; readonly reserver: Reserver }
  | { readonly kind: "release"; readonly pick: number; readonly all: boolean }
  | { readonly kind: "turn" }
  | { readonly kind: "sleep" };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant("reserve" as const),
    max: fc.integer({ min: 1, max: 12 }),
    reserver: fc.constantFrom<Reserver>("receive", "held"),
  }),
  fc.record({ kind: fc.constant("release" as const), pick: fc.nat(), all: fc.boolean() }),
  fc.record({ kind: fc.constant("turn" as const) }),
  fc.record({ kind: fc.constant("sleep" as const) }),
);

const FILL_WAIT_MS = 2;
/** Past a fill wait: the turns before it, the time, and the turn its grant lands in. */
const sleepPastFill = async () => {
  await nextTurn();
  mock.timers.tick(FILL_WAIT_MS + 1);
  await nextTurn();
};

test("property: random interleavings of reserve, release and waiting never lose a slot, never starve a waiter, never answer 0 before close", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 12 }),
      fc.array(step, { maxLength: 40 }),
      fc.boolean(),
      fc.boolean(),
      async (limit, steps, closeAtEnd, heldFirst) => {
        const capacity = new Capacity(limit, FILL_WAIT_MS, heldFirst);
        /** Slots each granted reservation still holds. */
        const holdings: number[] = [];
        const pending = new Set<number>();
        const grantedOrder: { readonly id: number; readonly reserver: Reserver }[] = [];
        let zeroBeforeClose = false;
        let nextId = 0;
        const taken = () => holdings.reduce((sum, n) => sum + n, 0);
        const check = (where: string) => {
          assert.equal(
            capacity.free,
            limit - taken(),
            `${where}: Capacity's free slots disagree with what was granted and not released`,
          );
          assert.ok(
            capacity.free >= 0 && capacity.free <= limit,
            `${where}: free ${capacity.free} outside 0..${limit}`,
          );
          assert.equal(capacity.waiting, pending.size, `${where}: waiting reservations`);
          assert.equal(zeroBeforeClose, false, `${where}: a reservation was answered 0 while Capacity was open`);
        };
        const reserve = (max: number, reserver: Reserver) => {
          const id = nextId++;
          pending.add(id);
          void capacity.reserve(max, reserver).then((granted) => {
            pending.delete(id);
            if (granted === 0) {
              if (!capacity.closed) zeroBeforeClose = true;
              return;
            }
            assert.ok(granted >= 1 && granted <= max, `granted ${granted} of ${max}`);
            holdings.push(granted);
            grantedOrder.push({ id, reserver });
          });
        };
        const releaseSome = (pick: number, all: boolean) => {
          const held = holdings.flatMap((n, i) => (n > 0 ? [i] : []));
          if (held.length === 0) return;
          const i = held[pick % held.length] as number;
          const count = all ? (holdings[i] as number) : 1;
          holdings[i] = (holdings[i] as number) - count;
          capacity.release(count);
        };
        for (const s of steps) {
          if (s.kind === "reserve") reserve(s.max, s.reserver);
          else if (s.kind === "release") releaseSome(s.pick, s.all);
          else if (s.kind === "turn") await nextTurn();
          else await sleepPastFill();
          // Grants land in microtasks: settle them before comparing counts.
          await Promise.resolve();
          await Promise.resolve();
          check(`after ${s.kind}`);
        }
        if (closeAtEnd) {
          capacity.close();
          await nextTurn();
          assert.equal(pending.size, 0, "close left a reservation waiting");
          assert.equal(await capacity.reserve(3), 0);
          return;
        }
        // No starvation: as long as every holder eventually gives its slots back, every waiter gets some.
        for (let round = 0; pending.size > 0 && round < 100; round++) {
          for (let i = 0; i < holdings.length; i++) releaseSome(i, true);
          await sleepPastFill();
          check(`drain round ${round}`);
        }
        assert.equal(pending.size, 0, `${pending.size} reservation(s) starved with every slot freed`);
        for (const reserver of ["receive", "held"] as const) {
          const ids = grantedOrder.filter((g) => g.reserver === reserver).map((g) => g.id);
          assert.deepEqual(
            ids,
            [...ids].sort((a, b) => a - b),
            `${reserver} reservations were not served in arrival order`,
          );
        }
      },
    ),
    { numRuns: 300 },
  );
});

test("reserve never answers 0 slots unless closed, even when a held message takes the slot a receive waited for", async () => {
  const capacity = new Capacity(2);
  await capacity.reserve(2);
  const loop = capacity.reserve(10);
  capacity.release(1);
  await nextTurn();
  mock.timers.tick(5);
  // A FIFO group's next message takes the freed slot during the loop's wait for a full batch.
  assert.equal(await capacity.reserve(1, "held"), 1);
  mock.timers.tick(200);
  capacity.release(2);
  await nextTurn();
  mock.timers.tick(50);
  assert.ok(
    (await loop) > 0,
    "a receive loop got 0 slots while the consumer runs, which it takes for shutdown and exits",
  );
});

test("a held message waiting for a slot gets it before a receive loop that gives its slots back and asks again", async () => {
  const capacity = new Capacity(2);
  await capacity.reserve(2); // a receive loop's long poll holds every slot
  let next = 0;
  void capacity.reserve(1, "held").then((n) => (next = n)); // a FIFO group's next message waits for one
  for (let poll = 0; poll < 5 && next === 0; poll++) {
    // The poll comes back empty (the group is locked by that very message): the loop gives its
    // slots back and, in the same turn, asks for them again, as the receive loop does.
    capacity.release(2);
    const again = capacity.reserve(10);
    await nextTurn();
    mock.timers.tick(50);
    const slots = await again;
    if (next === 0) continue;
    capacity.release(slots);
  }
  assert.equal(next, 1, "the waiting reservation (a FIFO group's next message) starved behind the receive loop");
});

/** A Handling whose handler (message or batch) records its context and ends when the test says, with a 1 s hard limit. */
function handlingOf(kind: "message" | "batch") {
  const { ctx, stop } = testContext(
    { send: () => Promise.reject(new Error("no SQS here")) },
    { settings: { handlerTimeoutSeconds: 1 } },
  );
  const slots = new Capacity(10);
  const contexts: (HandlerContext | BatchHandlerContext)[] = [];
  const ends: (() => void)[] = [];
  const handle = (context: HandlerContext | BatchHandlerContext) => {
    contexts.push(context);
    return new Promise<undefined>((resolve) => ends.push(() => resolve(undefined)));
  };
  const handling = new Handling(
    ctx,
    kind === "message"
      ? { handleMessage: (_message, context) => handle(context) }
      : { handleBatch: (_event, context) => handle(context) },
    slots,
  );
  const entry = (id: string) => {
    void slots.reserve(1);
    const raw = { MessageId: id, ReceiptHandle: `h-${id}`, Body: id, MD5OfBody: md5OfBody(id) };
    return inFlightEntry(raw, Date.now(), ROOT_CONTEXT, 30);
  };
  return { handling, entry, contexts, ends, stop };
}

test("a handler's signal carries the abort however late it is read: the hard limit's, shutdown's, a batch's", async () => {
  const timedOut = handlingOf("message");
  const run = timedOut.handling.run(timedOut.entry("m1"));
  await nextTurn();
  const [context] = timedOut.contexts;
  assert.ok(context);
  mock.timers.tick(1000);
  assert.equal(context.signal.aborted, true, "read for the first time after the limit passed");
  assert.ok(context.signal.reason instanceof HandlerTimeoutError);
  timedOut.ends[0]!();
  assert.equal((await run).failure?.reason, "timeout");
  timedOut.stop();

  const cut = handlingOf("message");
  const entry = cut.entry("m2");
  const cutRun = cut.handling.run(entry);
  await nextTurn();
  const copied = { ...cut.contexts[0]! };
  assert.equal(copied.signal.aborted, false, "a copy of the context made while the run goes on holds its live signal");
  // As shutdown does when its budget runs out (consumer.ts).
  entry.cutOff = true;
  entry.runAbort?.abort(new Error("shutdown budget exhausted"));
  cut.handling.cutOff();
  assert.equal(copied.signal.aborted, true, "shutdown cut the run off");
  assert.match(String(copied.signal.reason), /shutdown budget exhausted/);
  cut.ends[0]!();
  assert.equal((await cutRun).failure?.reason, "shutdown");
  cut.stop();

  const batch = handlingOf("batch");
  const batchRun = batch.handling.runBatch([batch.entry("b1"), batch.entry("b2")]);
  await nextTurn();
  mock.timers.tick(1000);
  assert.ok(batch.contexts[0]!.signal.reason instanceof HandlerTimeoutError, "one signal for the whole batch");
  batch.ends[0]!();
  assert.equal((await batchRun).failure?.reason, "timeout");
  batch.stop();
});
