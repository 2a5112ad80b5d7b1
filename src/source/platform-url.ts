/**
 * A platform that exposes only its HTTP API, named by a source URL (kept apart from the
 * connector so configuration checks it without loading the store):
 *   platform+https://EMAIL:PASSWORD@host[:port]/?account_id=N
 */
export interface PlatformSource {
  baseUrl: string;
  email: string;
  password: string;
  accountId: number;
}

export function parsePlatformUrl(url: string): PlatformSource {
  const u = new URL(url.replace(/^platform\+/, ''));
  const accountId = Number(u.searchParams.get('account_id'));
  if (!Number.isSafeInteger(accountId) || accountId < 1) throw new Error(`platform source URL needs ?account_id=N (a positive integer)`);
  if (!u.username || !u.password) throw new Error('platform source URL needs EMAIL:PASSWORD@ before the host');
  return { baseUrl: `${u.protocol}//${u.host}`, email: decodeURIComponent(u.username), password: decodeURIComponent(u.password), accountId };
}
