import type { Message } from "@aws-sdk/client-sqs";
import { totalmem } from "node:os";
import { getHeapStatistics } from "node:v8";
import {
  HEAP_SHARE_OF_MEMORY_LIMIT,
  RECEIVE_CHARGE_BYTES,
  SQS_MAX_MESSAGE_BYTES,
  heldChargeBytes,
  largestMessageBytes,
  messageMemoryBudgetBytes,
  receiveChargeBytes,
} from "./contract";

/**
 * Memory bounded by bytes: the consumer never asks SQS for more messages than its memory budget can
 * hold, whatever their size. The budget comes from the container's memory limit by the rule the
 * infrastructure's preview warning uses (contract/message-memory.ts). A receive reserves the worst
 * case for each message it asks for (the largest message the queue accepts, SQS's largest until the
 * queue's MaximumMessageSize is known, and what reading it costs) until its answer is in; then each message held is charged what its text takes, until the consumer no longer holds
 * it and its handler has settled.
 */

const MiB = 1_048_576;

/** Where the memory limit the budget is derived from came from. */
export type MemoryLimitSource = "cgroup" | "heap";

/** The container's memory limit, as the budget sees it. */
export interface MemoryLimit {
  readonly bytes: number;
  /**
   * `cgroup`: the limit the container runtime set (Node's `process.constrainedMemory()`, the cgroup's
   * memory.max or memory.limit_in_bytes); `heap`: no lower limit is set, so the one whose heap flags
   * (contract/node-heap.ts) match V8's own heap limit.
   */
  readonly source: MemoryLimitSource;
}

/**
 * The memory limit to derive the budget from: the cgroup's, unless V8's heap is smaller than the
 * heap the contract gives that limit (NODE_OPTIONS set by hand, or no limit at all: a developer's
 * machine), then the limit whose contract heap is V8's. Either way the budget fits the heap.
 */
export function memoryLimit(
  constrained: number = process.constrainedMemory(),
  heapSizeLimit: number = getHeapStatistics().heap_size_limit,
  machine: number = totalmem(),
): MemoryLimit {
  // heap_size_limit is old space plus the young generation; old space is HEAP_SHARE_OF_MEMORY_LIMIT of the limit.
  const fromHeap = heapSizeLimit / HEAP_SHARE_OF_MEMORY_LIMIT;
  // Without a limit libuv reports 0 or a value past the machine's memory (the cgroup's "max").
  const cgroup = constrained > 0 && constrained < machine ? constrained : undefined;
  if (cgroup !== undefined && cgroup <= fromHeap) return { bytes: cgroup, source: "cgroup" };
  return { bytes: Math.min(fromHeap, machine), source: "heap" };
}

/**
 * Bytes a message's text takes in V8's heap: its body and string attribute values, one byte per
 * character when all are Latin-1 (V8's one-byte strings), two otherwise; binary attributes by length.
 * An ASCII body (its UTF-8 length equals its length) is the common case, checked at native speed.
 */
export function messageTextBytes(message: Message): number {
  let bytes = textBytes(message.Body ?? "");
  for (const name in message.MessageAttributes) {
    const value = message.MessageAttributes[name]!;
    bytes += name.length + textBytes(value.StringValue ?? "") + (value.BinaryValue?.byteLength ?? 0);
  }
  return bytes;
}

function textBytes(text: string): number {
  return Buffer.byteLength(text, "utf8") === text.length ? text.length : 2 * text.length;
}

/** A receive waiting for room. */
interface Waiter {
  readonly max: number;
  readonly resolve: (messages: number) => void;
}

/**
 * The memory budget of one consumer, in bytes: what receives in progress reserved and held messages are
 * charged. Receives wait for room in arrival order; the charges of held messages never wait (they are
 * in memory already).
 */
export class MessageMemory {
  private receiving = 0;
  /** Messages reserved by receives in progress, by the charge per message in force when they were reserved. */
  private readonly reservedByCharge = new Map<number, number>();
  private heldBytes = 0;
  private readonly waiters: Waiter[] = [];
  private charge: number;
  /**
   * The queue's maximum message size, bytes, receives are charged by (`largestMessageBytes`), while it is
   * below SQS's largest message; undefined while they are charged by SQS's largest.
   */
  private lowered: number | undefined;

  /**
   * @param budgetBytes what receives and held messages may be charged at once
   * @param receiveChargeBytes what a receive reserves per message it asks for, until
   *   `useMaximumMessageSize` sets it from the queue's maximum; default: SQS's largest message's charge
   */
  constructor(
    readonly budgetBytes: number,
    receiveChargeBytes: number = RECEIVE_CHARGE_BYTES,
  ) {
    this.charge = receiveChargeBytes;
  }

  /** What a receive reserves now per message it asks for, bytes. */
  get receiveChargeBytes(): number {
    return this.charge;
  }

  /**
   * Charges receives from now on by the queue's `MaximumMessageSize` attribute, bytes (SQS rejects a
   * larger message when it is sent; contract/message-memory.ts `receiveChargeBytes`), until a held message
   * turns out larger (see `hold`). Receives already reserved keep what they took until released; receives
   * waiting for room are granted by the new charge at once.
   */
  useMaximumMessageSize(maximumMessageSize: number): void {
    this.charge = receiveChargeBytes(maximumMessageSize);
    const largest = largestMessageBytes(maximumMessageSize);
    this.lowered = largest < SQS_MAX_MESSAGE_BYTES ? largest : undefined;
    this.grant();
  }

  /**
   * Called once when a held message's text is larger than the queue's maximum the receives are charged
   * by (see `hold`), with its bytes and that maximum.
   */
  onLargerThanMaximum: ((textBytes: number, maximumMessageSize: number) => void) | undefined;

  /** The budget for a memory limit (contract/message-memory.ts). */
  static forLimit(limit: MemoryLimit): MessageMemory {
    return new MessageMemory(messageMemoryBudgetBytes(limit.bytes / MiB));
  }

  /** Bytes reserved by receives in progress. */
  get reserved(): number {
    return this.receiving;
  }

  /** Bytes charged to held messages. */
  get held(): number {
    return this.heldBytes;
  }

  /** The most messages one receive asks for while nothing else is charged (at least 1). */
  get largestReceive(): number {
    return Math.max(1, Math.floor(this.budgetBytes / this.charge));
  }

  /**
   * Reserves room for a receive of between 1 and `max` messages: as many as fit now, waiting in
   * arrival order until one does. When nothing is charged at all and not even one fits (a budget
   * smaller than a receive's charge), it reserves one anyway: the consumer must make progress.
   * Resolves 0 at once, or when `signal` aborts while it waits; then nothing is reserved.
   */
  reserveReceive(max: number, signal: AbortSignal): Promise<number> {
    if (signal.aborted) return Promise.resolve(0);
    // Nobody waiting and room now (the usual case): no waiter, no abort listener.
    const now = this.waiters.length === 0 ? this.fitting(max) : 0;
    if (now > 0) {
      this.reserve(now);
      return Promise.resolve(now);
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        max,
        resolve: (messages) => {
          signal.removeEventListener("abort", onAbort);
          resolve(messages);
        },
      };
      const onAbort = (): void => {
        const at = this.waiters.indexOf(waiter);
        if (at !== -1) this.waiters.splice(at, 1);
        resolve(0);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
      this.grant();
    });
  }

  /**
   * Frees what a receive reserved for `messages` messages (answered, failed, or asking for fewer), by the
   * charge in force when they were reserved. A release does not say which receive it ends: when receives
   * reserved under different charges are in progress (the charge changed meanwhile), the smallest charges
   * are freed first, so what stays reserved is never less than what the receives still in progress took,
   * and all is freed exactly once every receive has released its messages.
   */
  releaseReceive(messages: number): void {
    if (messages <= 0) return;
    let left = messages;
    const charges =
      this.reservedByCharge.size === 1
        ? this.reservedByCharge.keys()
        : [...this.reservedByCharge.keys()].sort((a, b) => a - b);
    for (const charge of charges) {
      const count = this.reservedByCharge.get(charge)!;
      const freed = Math.min(count, left);
      if (freed === count) this.reservedByCharge.delete(charge);
      else this.reservedByCharge.set(charge, count - freed);
      this.receiving -= freed * charge;
      left -= freed;
      if (left === 0) break;
    }
    this.grant();
  }

  /**
   * Charges a held message, by its text bytes (`messageTextBytes`); returns the charge to release later.
   * A text larger than the queue's maximum the receives are charged by means that maximum does not
   * bound what the queue holds: messages sent before it was lowered stay on the queue (SQS checks the
   * size when a message is sent), one raised after start-up is not seen, and two-byte text takes up
   * to twice its size in the heap. Receives are then charged by SQS's largest message from now on.
   */
  hold(textBytes: number): number {
    if (this.lowered !== undefined && textBytes > this.lowered) {
      const maximum = this.lowered;
      this.charge = RECEIVE_CHARGE_BYTES;
      this.lowered = undefined;
      this.onLargerThanMaximum?.(textBytes, maximum);
    }
    const charge = heldChargeBytes(textBytes);
    this.heldBytes += charge;
    return charge;
  }

  /** Releases a held message's charge (what `hold` returned). */
  release(charge: number): void {
    if (charge <= 0) return;
    this.heldBytes -= charge;
    this.grant();
  }

  /** How many of `max` messages a receive may ask for now (see reserveReceive); 0 when none fits. */
  private fitting(max: number): number {
    const used = this.receiving + this.heldBytes;
    const fits = Math.floor((this.budgetBytes - used) / this.charge);
    return Math.min(max, fits > 0 ? fits : used === 0 ? 1 : 0);
  }

  private grant(): void {
    while (this.waiters.length > 0) {
      const head = this.waiters[0]!;
      const messages = this.fitting(head.max);
      if (messages === 0) return;
      this.waiters.shift();
      this.reserve(messages);
      head.resolve(messages);
    }
  }

  private reserve(messages: number): void {
    const charge = this.charge;
    this.reservedByCharge.set(charge, (this.reservedByCharge.get(charge) ?? 0) + messages);
    this.receiving += messages * charge;
  }
}
