/**
 * A limit on work running at once: `running` at a time, up to `waiting` more queued in
 * arrival order, and past that `refuse()` is thrown. What is let in holds its slot until it
 * calls the function `enter()` gives it.
 *
 * ```ts
 * const leave = await gate.enter();   // waits for a slot, or throws refuse()
 * try { await work(); } finally { leave(); }
 * ```
 */
export class Gate {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(readonly running: number, readonly waiting = Infinity, private readonly refuse: (inFlight: number, queued: number) => Error = () => new Error('too busy')) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.queue.length;
  }

  async enter(): Promise<() => void> {
    if (this.active >= this.running) {
      if (this.queue.length >= this.waiting) throw this.refuse(this.active, this.queue.length);
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else {
      this.active++;
    }
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const next = this.queue.shift();
      // The slot passes straight to the next in line; `active` stays the same.
      if (next) next();
      else this.active--;
    };
  }

  /** Runs `fn` in a slot. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const leave = await this.enter();
    try {
      return await fn();
    } finally {
      leave();
    }
  }
}
