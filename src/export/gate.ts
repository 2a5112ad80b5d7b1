import { UnavailableError } from '../errors.ts';
import { Gate } from '../gate.ts';

/**
 * How many exports run at once, so that many downloads together stay inside the memory
 * budget (CALLBOARD_MEMORY_LIMIT): `running` at a time, up to `waiting` more queued in
 * arrival order, and past that a 503 with Retry-After rather than a process that swells.
 */
export class ExportGate extends Gate {
  constructor(running: number, waiting: number) {
    super(running, waiting, (inFlight, queued) => new UnavailableError(`${inFlight} exports are being written and ${queued} wait: retry in a minute.`, 60));
  }
}
