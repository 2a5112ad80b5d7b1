/** One run at a time: a call while a run is in progress joins it instead of starting another. */
export class SingleFlight<T> {
  private running: Promise<T> | null = null;

  get busy(): boolean {
    return this.running !== null;
  }

  run(fn: () => Promise<T>): Promise<T> {
    if (!this.running) {
      this.running = fn().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }
}
