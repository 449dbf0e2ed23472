// The messages between the benchmark's orchestrator and its contestants, over Node's IPC channel (the
// emulator process's are in harness/emulator-protocol.ts).
import type { RequestCounts } from "./request-counter";

/** Orchestrator to contestant. */
export interface ReportRequest {
  readonly type: "report";
}

/** Contestant to orchestrator: what its client-side counting middleware saw. */
export interface ContestantReport {
  readonly type: "report";
  readonly requests: RequestCounts;
}
