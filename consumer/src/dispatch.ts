import type { Message } from "@aws-sdk/client-sqs";
import type { Context } from "@opentelemetry/api";
import type { Capacity } from "./capacity";
import { checkMessage } from "./checksums";
import { inFlightEntry, type InFlight, type InFlightMessages } from "./in-flight";
import type { Invocations } from "./invocations";
import type { Logger } from "./logger";
import type { MessageGroups } from "./message-groups";
import type { Metrics } from "./metrics";
import type { Processor } from "./processing";
import type { Settings } from "./settings";
import type { Settlement } from "./settlement";

export interface DispatcherOptions {
  readonly settings: Settings;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly capacity: Capacity;
  readonly invocations: Invocations;
  readonly inFlight: InFlightMessages;
  readonly groups: MessageGroups<InFlight>;
  readonly settlement: Settlement;
  readonly processor: Processor;
  /** Aborted when shutdown begins: what a receive brings after that is given back, not handled. */
  readonly receiving: AbortSignal;
}

/**
 * Dispatch of one receive's messages (the up to MAX_MESSAGES a ReceiveMessage returned, in the order
 * SQS gave them): which are handled now, which wait behind their FIFO group, which are not handled here.
 */
export class Dispatcher {
  constructor(private readonly options: DispatcherOptions) {}

  /**
   * Starts what may start of one receive's messages (one per FIFO group), holds the rest, and gives
   * back the unused slots of the `slots` the receive reserved. A message that fails its checksum, or
   * whose earlier invocation has not settled, is not handled; on a FIFO queue the rest of its group in
   * this receive goes back behind it, so the group's order holds on redelivery. `receivedAt` is in ms
   * since epoch; `receiveContext` is the receive span's context.
   */
  dispatch(raw: readonly Message[], receivedAt: number, receiveContext: Context, slots: number): void {
    const { settings, capacity, inFlight, groups, settlement, processor, receiving } = this.options;
    const entries = raw.map((message) => inFlightEntry(message, receivedAt, receiveContext, settings.visibilityTimeoutSeconds));
    if (receiving.aborted) {
      // Received as shutdown began: shutdown gives them back rather than start work there is no time for.
      settlement.returnAtShutdown(entries);
      capacity.release(slots);
      return;
    }
    const accepted: InFlight[] = [];
    const skippedGroups = new Set<string>();
    const behind: InFlight[] = [];
    raw.forEach((message, i) => {
      const entry = entries[i] as InFlight;
      if (entry.groupId !== undefined && skippedGroups.has(entry.groupId)) {
        behind.push(entry);
        return;
      }
      if (this.rejected(message, receivedAt)) {
        if (groups.ordered && entry.groupId !== undefined) skippedGroups.add(entry.groupId);
        return;
      }
      accepted.push(entry);
    });
    if (behind.length > 0) void settlement.releaseNow(behind);
    for (const entry of accepted) inFlight.hold(entry);
    const startNow = groups.admit(accepted);
    capacity.release(slots - startNow.length);
    for (const entry of startNow) processor.run(entry);
  }

  /** True when a received message must not be handled: a damaged checksum, or an invocation of it still running. */
  private rejected(raw: Message, receivedAt: number): boolean {
    const { metrics, invocations, settlement } = this.options;
    const corrupt = checkMessage(raw);
    if (corrupt !== undefined) {
      metrics.checksumMismatches.inc({ part: corrupt });
      settlement.giveBack(raw, receivedAt, { event: "checksum-mismatch", part: corrupt }, `the message's ${corrupt} does not match its MD5: not handled; it will be delivered again (then moved to the DLQ)`);
      return true;
    }
    const running = invocations.get(raw.MessageId ?? "");
    if (running !== undefined) {
      this.redelivered(running.abandoned, raw, receivedAt);
      return true;
    }
    return false;
  }

  /**
   * A message received again while an invocation for it has not settled (SQS delivers at least once,
   * and a timed-out message comes back after its retry delay) is never handled twice at once. If its
   * handler is still within its limit, the new receipt handle replaces the old one, so the heartbeat
   * and the delete act on the latest delivery. If its handler was abandoned, the message goes back
   * after the retry delay, counting toward the DLQ like any failure.
   */
  private redelivered(abandoned: boolean, raw: Message, receivedAt: number): void {
    const { settings, logger, metrics, inFlight, settlement } = this.options;
    const messageId = raw.MessageId ?? "";
    metrics.duplicateDeliveries.inc({ state: abandoned ? "abandoned" : "running" });
    const held = inFlight.find(messageId);
    if (!abandoned && held !== undefined) {
      held.receiptHandle = raw.ReceiptHandle ?? held.receiptHandle;
      held.receivedAt = receivedAt;
      held.visibleAt = receivedAt + settings.visibilityTimeoutSeconds * 1000;
      logger.info({ event: "duplicate-delivery", messageId }, "received again while being handled: the new receipt handle replaces the old one");
      return;
    }
    settlement.giveBack(raw, receivedAt, { event: "duplicate-delivery" }, "received again while its abandoned handler still runs: not handled a second time here; it will be delivered again");
  }
}
