import type { FastifyReply, FastifyRequest } from 'fastify';
import { dataState } from '../store/data-as-of.ts';
import type { Store } from '../store/duckdb.ts';
import type { SyncProgress } from '../sync/sync.ts';
import { firstSyncMessage } from './readiness.ts';

/** A preHandler hook that reads how fresh the data is (see freshness). */
export type FreshnessHook = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * Every answer of the routes this hook runs on says how fresh its data is: the start of
 * the last sync that finished (X-Data-As-Of, sent by the app's onSend hook) and the data
 * version (the result cache's key), read before the handler runs so the header never
 * claims more than the data. With `untilFirstSync`, the routes answer 503 with the first
 * sync's progress until one has finished: a report would be zeros that look like figures.
 */
export function freshness(store: Store, opts: { untilFirstSync?: () => SyncProgress | null } = {}): FreshnessHook {
  return async (req, reply) => {
    const state = await dataState(store);
    req.dataAsOf = state.asOf;
    req.dataVersion = state.version;
    if (state.asOf === null && opts.untilFirstSync) {
      return reply.code(503).header('retry-after', '10').send({ message: firstSyncMessage(opts.untilFirstSync()) });
    }
  };
}
