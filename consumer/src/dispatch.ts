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
   * back the unused slots of the `slots` the receive reserved. A message the consumer already holds
   * keeps its place and takes the new receipt handle. A message that fails its checksum, or whose
   * earlier invocation has not settled though it is no longer held, is not handled; on a FIFO queue the
   * rest of its group in this receive goes back behind it, so the group's order holds on redelivery.
   * `receivedAt` is in ms since epoch; `receiveContext` is the receive span's context.
   */
  dispatch(raw: readonly Message[], receivedAt: number, receiveContext: Context, slots: number): void {
    const { settings, capacity, inFlight, groups, settlement, processor, receiving } = this.options;
    const entries = raw.map((message) =>
      inFlightEntry(message, receivedAt, receiveContext, settings.visibilityTimeoutSeconds),
    );
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
      const verdict = this.verdict(message, receivedAt, accepted);
      if (verdict === "refused" && groups.ordered && entry.groupId !== undefined) skippedGroups.add(entry.groupId);
      if (verdict === "new") accepted.push(entry);
    });
    if (behind.length > 0) void settlement.releaseNow(behind);
    for (const entry of accepted) inFlight.hold(entry);
    const startNow = groups.admit(accepted);
    capacity.release(slots - startNow.length);
    for (const entry of startNow) processor.run(entry);
  }

  /**
   * What becomes of a received message: `new`, to be held and handled; `held`, a second delivery of a
   * message the consumer already holds (running, waiting behind its FIFO group, or earlier in this same
   * receive; see redelivered); `refused`, not handled here and given back: a damaged checksum, or an
   * earlier invocation that has not settled though the consumer no longer holds the message (abandoned,
   * or timed out a moment ago). `accepted` are this receive's messages accepted so far.
   */
  private verdict(raw: Message, receivedAt: number, accepted: readonly InFlight[]): "new" | "held" | "refused" {
    const { metrics, invocations, inFlight, settlement } = this.options;
    const messageId = raw.MessageId ?? "";
    const running = invocations.get(messageId);
    const held = accepted.find((entry) => entry.messageId === messageId) ?? inFlight.find(messageId);
    // The copy held passed its checksum: a damaged second delivery only brings a newer receipt handle.
    if (held !== undefined && !running?.abandoned) {
      this.redelivered(held, running === undefined ? "waiting" : "running", raw, receivedAt);
      return "held";
    }
    const corrupt = checkMessage(raw);
    if (corrupt !== undefined) {
      metrics.checksumMismatches.inc({ part: corrupt });
      settlement.giveBack(
        raw,
        receivedAt,
        { event: "checksum-mismatch", part: corrupt },
        `the message's ${corrupt} does not match its MD5: not handled; it will be delivered again (then moved to the DLQ)`,
      );
      return "refused";
    }
    if (running === undefined) return "new";
    metrics.duplicateDeliveries.inc({ state: running.abandoned ? "abandoned" : "running" });
    settlement.giveBack(
      raw,
      receivedAt,
      { event: "duplicate-delivery" },
      "received again while its abandoned handler still runs: not handled a second time here; it will be delivered again",
    );
    return "refused";
  }

  /**
   * A message received again while the consumer holds it (SQS delivers at least once; a message whose
   * visibility lapsed comes back, on a FIFO queue with the rest of its group) is never held, nor
   * handled, twice. The new receipt handle replaces the old one, so the heartbeat, the delete and a
   * release act on the latest delivery: SQS only honours the most recent receipt handle reliably (SQS
   * Developer Guide, "Amazon SQS visibility timeout" and the ReceiptHandle of ReceiveMessage). `state`
   * says whether its handler was running or had not started.
   */
  private redelivered(held: InFlight, state: "running" | "waiting", raw: Message, receivedAt: number): void {
    const { settings, logger, metrics } = this.options;
    metrics.duplicateDeliveries.inc({ state });
    held.receiptHandle = raw.ReceiptHandle ?? held.receiptHandle;
    held.receivedAt = receivedAt;
    held.visibleAt = receivedAt + settings.visibilityTimeoutSeconds * 1000;
    logger.info(
      { event: "duplicate-delivery", messageId: held.messageId, state },
      "received again while held: the new receipt handle replaces the old one",
    );
  }
}
