import { createLogger, type Logger } from "../../src/logger";
import type { LogLevel } from "../../src/settings";

export type LogLine = Record<string, unknown> & { level: string; msg: string };

/** A logger whose JSON lines are kept in memory, parsed, for assertions. */
export class LogCapture {
  readonly lines: LogLine[] = [];
  readonly logger: Logger;
  private waiters: (() => void)[] = [];

  constructor(level: LogLevel = "info") {
    this.logger = createLogger(level, {
      write: (text: string) => {
        for (const line of text.split("\n")) if (line) this.lines.push(JSON.parse(line) as LogLine);
        for (const wake of this.waiters.splice(0)) wake();
      },
    });
  }

  find(predicate: (line: LogLine) => boolean): LogLine[] {
    return this.lines.filter(predicate);
  }

  /** Resolves with the first line matching, waiting for it up to `timeoutMs`. */
  async waitFor(
    predicate: (line: LogLine) => boolean,
    timeoutMs = 10_000,
    what = "a matching log line",
  ): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; last lines:\n${this.lines
            .slice(-5)
            .map((l) => JSON.stringify(l))
            .join("\n")}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
