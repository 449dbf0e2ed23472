// The lines a running process has written to one stream, kept in order so that several readers can
// each see all of them: a test waits for a readiness line, another collects every log line.

export class LineLog {
  readonly #lines: string[] = [];
  readonly #listeners = new Set<() => void>();
  #ended = false;

  /** Every line received so far. */
  get lines(): readonly string[] {
    return this.#lines;
  }

  /** True once the stream has closed: no line will follow. */
  get ended(): boolean {
    return this.#ended;
  }

  push(line: string): void {
    this.#lines.push(line);
    this.#notify();
  }

  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** All lines from the first, then each new one as it arrives, until the stream closes. */
  async *follow(): AsyncGenerator<string> {
    let next = 0;
    for (;;) {
      while (next < this.#lines.length) yield this.#lines[next++] as string;
      if (this.#ended) return;
      await new Promise<void>((resolve) => {
        const listener = (): void => {
          this.#listeners.delete(listener);
          resolve();
        };
        this.#listeners.add(listener);
      });
    }
  }

  /**
   * The first line, already received or still to come, for which `match` is true. Rejects when the
   * stream closes or `timeoutMs` passes first, quoting the last lines seen.
   */
  waitFor(match: (line: string) => boolean, timeoutMs: number, description: string): Promise<string> {
    return new Promise((resolve, reject) => {
      let next = 0;
      const finish = (outcome: () => void): void => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        outcome();
      };
      const check = (): void => {
        while (next < this.#lines.length) {
          const line = this.#lines[next++] as string;
          if (match(line)) return finish(() => resolve(line));
        }
        if (this.#ended) finish(() => reject(new Error(`stream closed before ${description}${this.#tail()}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no ${description} within ${timeoutMs} ms${this.#tail()}`))),
        timeoutMs,
      );
      this.#listeners.add(check);
      check();
    });
  }

  #tail(): string {
    const last = this.#lines.slice(-20);
    return last.length === 0 ? " (no output)" : `; last lines:\n${last.join("\n")}`;
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
