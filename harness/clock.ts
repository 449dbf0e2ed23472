/**
 * Milliseconds since the epoch with sub-millisecond resolution. Every benchmark process stamps events
 * with it, so the orchestrator, the emulator and the contestants can be compared on one time line.
 */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
