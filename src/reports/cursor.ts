import { ValidationError } from '../errors.ts';
import { MAX_YEAR, MIN_YEAR } from './params.ts';

/** An opaque keyset cursor: the last row's sort key, base64url JSON. */
export function encodeCursor(key: [string, number]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The keyset time as the call detail's SQL writes it (`_key_started`): UTC, microseconds. */
const CURSOR_TIME = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * The keyset of a cursor, accepted only in the exact form encodeCursor writes: a time the
 * SQL could have written and a positive id, encoded back to the very same text.
 */
export function decodeCursor(cursor: string | null): [string, number] | null {
  if (cursor === null) return null;
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === 2 && typeof key[0] === 'string' && Number.isSafeInteger(key[1]) && key[1] > 0) {
      const m = CURSOR_TIME.exec(key[0]);
      const year = m ? Number(m[1]) : NaN;
      const valid = m && year >= MIN_YEAR && year <= MAX_YEAR && new Date(key[0].slice(0, 23) + 'Z').toISOString().slice(0, 23) === key[0].slice(0, 23);
      if (valid && encodeCursor([key[0], key[1]]) === cursor) return [key[0], key[1]];
    }
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError({ cursor: ['The cursor is not one this endpoint returned.'] });
}
