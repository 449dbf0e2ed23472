// The messages between a harness's orchestrator and its emulator process (emulator-process.ts), over
// Node's IPC channel.

/** One request the emulator served for a watched access key, stamped at the emulator (epoch ms). */
export interface ServedRequest {
  readonly operation: string;
  readonly start: number;
  /** When the response was sent; undefined while it is still open (a long poll). */
  end: number | undefined;
}

/** Orchestrator to emulator process. Requests carry an id that the answer repeats. */
export type EmulatorCommand =
  /** Record requests signed with `key`; report its first receive, and each depth mark `queueName` falls to. */
  | { readonly type: "watch"; readonly key: string; readonly queueName: string; readonly marks: readonly number[] }
  /** Send back everything recorded for `key`. */
  | { readonly type: "requests"; readonly id: number; readonly key: string }
  /** Stop watching `key` and drop its records. */
  | { readonly type: "forget"; readonly key: string }
  /** Hold every request signed with `key` whose operation starts with `operationPrefix` for `ms` before serving it (0 ends it). */
  | { readonly type: "delay"; readonly key: string; readonly operationPrefix: string; readonly ms: number };

/** Emulator process to orchestrator. */
export type EmulatorEvent =
  | { readonly type: "ready"; readonly endpoint: string }
  | { readonly type: "first-receive"; readonly key: string; readonly at: number }
  /**
   * The queue holds at most `mark` messages (visible, in flight or delayed). For mark 0, `at` is when
   * the response to the last delete signed with the key was sent; otherwise when the emulator noticed.
   */
  | { readonly type: "mark"; readonly key: string; readonly mark: number; readonly at: number }
  | { readonly type: "requests"; readonly id: number; readonly requests: readonly ServedRequest[] };
