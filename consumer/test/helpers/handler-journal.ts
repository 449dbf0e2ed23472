import type { ReceivedMessage } from "../../src/handler";

/**
 * What a test's handler saw: the bodies it started and finished with success, every message as
 * received, each start and end in order with its group, and the most handlers running at once, per
 * message group and overall (FIFO tests assert 1 per group).
 */
export class HandlerJournal {
  readonly started: string[] = [];
  readonly succeeded: string[] = [];
  readonly received: ReceivedMessage[] = [];
  /** Every start and end, in order, with its group. */
  readonly events: { kind: "start" | "end"; body: string; group: string }[] = [];
  private readonly runningByGroup = new Map<string, number>();
  private running = 0;
  peakPerGroup = 0;
  peakOverall = 0;

  /** Runs `work` as the handler of `message`, recording its start, its end and whether it succeeded. */
  async run(message: ReceivedMessage, work: () => Promise<void>): Promise<void> {
    const group = message.groupId ?? "";
    const inGroup = (this.runningByGroup.get(group) ?? 0) + 1;
    this.runningByGroup.set(group, inGroup);
    this.peakPerGroup = Math.max(this.peakPerGroup, inGroup);
    this.peakOverall = Math.max(this.peakOverall, ++this.running);
    this.started.push(message.body);
    this.received.push(message);
    this.events.push({ kind: "start", body: message.body, group });
    try {
      await work();
      this.succeeded.push(message.body);
    } finally {
      this.events.push({ kind: "end", body: message.body, group });
      this.runningByGroup.set(group, this.runningByGroup.get(group)! - 1);
      this.running--;
    }
  }

  /** The bodies of `list` that start with `prefix` (a group's, when bodies are `<group>-m<n>`). */
  of(list: readonly string[], prefix: string): string[] {
    return list.filter((body) => body.startsWith(prefix));
  }

  /** The successes of group `group`, for bodies named `<group>-m<n>`, in the order they succeeded. */
  successesOf(group: string): string[] {
    return this.of(this.succeeded, `${group}-`);
  }
}
