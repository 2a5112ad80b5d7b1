import { UnavailableError } from '../errors.ts';

/**
 * How many exports run at once, so that many downloads together stay inside the memory
 * budget (CALLBOARD_MEMORY_LIMIT): `running` at a time, up to `waiting` more queued in
 * arrival order, and past that a 503 with Retry-After rather than a process that swells.
 *
 * ```ts
 * const leave = await gate.enter();   // waits for a slot, or throws UnavailableError
 * try { await writeTheFile(); } finally { leave(); }
 * ```
 */
export class ExportGate {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(readonly running: number, readonly waiting: number) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.queue.length;
  }

  async enter(): Promise<() => void> {
    if (this.active >= this.running) {
      if (this.queue.length >= this.waiting) {
        throw new UnavailableError(`${this.active} exports are being written and ${this.queue.length} wait: retry in a minute.`, 60);
      }
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
}
