/** Exponential backoff with full jitter: spreads retries of many pods so they do not retry in step. */
export function backoffDelayMs(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * random());
}

/**
 * The delay before a failed message is received again: grows with its receive count, bounded.
 * Returns 0 when retry delays are disabled, meaning "leave it to the visibility timeout".
 */
export function retryDelaySeconds(receiveCount: number, baseSeconds: number, maxSeconds: number): number {
  if (baseSeconds === 0) return 0;
  return Math.min(maxSeconds, baseSeconds * 2 ** Math.min(Math.max(receiveCount - 1, 0), 30));
}

/** Resolves after `ms`, or at once when the signal aborts. Never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, ms));
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
