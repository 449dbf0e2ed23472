// Accounting from the pods' own logs: every message the handler finished is one `event: "message"`
// line (the default log handler's), whose body carries the burst index. From those lines the drill
// finds messages never handled and messages handled more than once.
import { readFileSync } from "node:fs";
import type { PodRecord } from "./pods";

/** One finished handling, as logged. */
export interface Handling {
  readonly pod: string;
  readonly messageId: string;
  readonly receiveCount: number;
}

/** Log lines the drill reads; anything else is ignored. */
interface LogLine {
  readonly event?: string;
  readonly messageId?: string;
  readonly body?: string;
  readonly receiveCount?: number;
  /** The `stopped` line: messages whose visibility shutdown changed so SQS delivers them again. */
  readonly visibilityChanged?: number;
}

export interface Ledger {
  readonly handled: number;
  /** Burst indices no pod finished. */
  readonly lost: readonly number[];
  /** Indices handled more than once where an earlier handling's pod was SIGKILLed: redelivery, as designed. */
  readonly redeliveredAfterKill: readonly number[];
  /** Indices handled more than once with no kill to explain it: a fault. */
  readonly duplicates: readonly { readonly index: number; readonly handlings: readonly Handling[] }[];
  /** Messages whose visibility pods changed at shutdown so SQS delivers them again (unfinished, or received as shutdown began). */
  readonly visibilityChangedAtShutdown: number;
}

/** Reads every pod's log and accounts for burst indices 0 .. messages-1. */
export function readLedger(pods: readonly PodRecord[], messages: number): Ledger {
  const byIndex = new Map<number, Handling[]>();
  let handled = 0;
  let visibilityChangedAtShutdown = 0;
  for (const pod of pods) {
    for (const text of readFileSync(pod.logFile, "utf8").split("\n")) {
      if (!text.startsWith("{")) continue;
      const line = JSON.parse(text) as LogLine;
      if (line.event === "stopped") visibilityChangedAtShutdown += line.visibilityChanged ?? 0;
      if (line.event !== "message" || line.body === undefined) continue;
      const index = (JSON.parse(line.body) as { index: number }).index;
      handled++;
      const list = byIndex.get(index) ?? [];
      list.push({ pod: pod.name, messageId: line.messageId ?? "", receiveCount: line.receiveCount ?? 0 });
      byIndex.set(index, list);
    }
  }
  const killed = new Set(pods.filter((p) => p.killed).map((p) => p.name));
  const lost: number[] = [];
  const redeliveredAfterKill: number[] = [];
  const duplicates: { index: number; handlings: Handling[] }[] = [];
  for (let index = 0; index < messages; index++) {
    const list = byIndex.get(index);
    if (!list) {
      lost.push(index);
      continue;
    }
    if (list.length === 1) continue;
    const ordered = [...list].sort((a, b) => a.receiveCount - b.receiveCount);
    const explained = ordered.slice(0, -1).every((h) => killed.has(h.pod));
    if (explained) redeliveredAfterKill.push(index);
    else duplicates.push({ index, handlings: ordered });
  }
  return { handled, lost, redeliveredAfterKill, duplicates, visibilityChangedAtShutdown };
}
