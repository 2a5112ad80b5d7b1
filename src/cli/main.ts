import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { SyncJob, syncJobOptions } from '../../jobs/sync.ts';
import { checkNewUser, listUsers, removeUser, setDisabled, setPassword, addUser, userId } from '../auth/users.ts';
import { ValidationError } from '../errors.ts';
import { addApiToken, DEFAULT_TOKEN_LIFETIME, LIFETIME_RULE, listApiTokens, parseLifetime, revokeApiToken } from '../auth/api-tokens.ts';
import { connectSource } from '../source/connect.ts';
import { parsePlatformUrl } from '../source/platform-url.ts';
import { addKey, listKeys, revokeKey } from '../auth/api-keys.ts';
import { CONFIG_VARS, ConfigError, loadConfig, ownerOnly, paths, storeMemory, type Config } from '../config/config.ts';
import { openMeta, type MetaDb } from '../meta/db.ts';
import { processAlive } from '../meta/process-alive.ts';
import { listRuns, runFilterErrors, validLimit } from '../meta/job-runs.ts';
import type { BillingFiles } from '../export/billing-files.ts';
import { monthProblem } from '../reports/params.ts';
import { listRejects, rejectFilterErrors, type RejectRow } from '../store/rejects.ts';
import { redactSourceUrl, SourceMismatchError, type SourceIdentity } from '../source/identity.ts';
import { storedSource } from '../store/source-record.ts';
import type { SyncResult } from '../sync/sync.ts';
import readline from 'node:readline/promises';
import { Store, StoreLockedError } from '../store/duckdb.ts';

const HELP = `callboard: telephony reporting service

Usage: callboard <command> [options]

Commands:
  serve                         run the HTTP API and the scheduled jobs (npm start)
  sync                          run one source sync now; asks the running server to do it
                                when one is running (DuckDB allows one writing process)
  seed [--out URL] [--calls N] [--days D] [--now ISO] [--seed S] [--force]
                                write the deterministic demo source (default: the demo
                                source under the data directory, 200000 calls, 120 days);
                                refuses to overwrite the source the store was built from
                                unless --force (the next sync then rebuilds the store)
  reset [--yes]                 empty the store and rebuild it from the configured source
                                (asks for confirmation unless --yes)
  users add --email E --password P --role admin|partner|account
            [--account-id N | --partner-id N] [--first-name F] [--last-name L]
                                create a user who can log in to the API (the account
                                or partner must exist in the source)
  users list                    every user with its role, scope and whether it is disabled
  users disable|enable --email E
                                stop (or allow again) a user's logins; disabling ends its
                                sessions and its tokens stop working at once
  users remove --email E        delete a user and its sessions
  users passwd --email E --password P
                                set a new password; the user's sessions end
  jobs [--job NAME] [--limit N]  the last job runs (sync, monitor, billing, cdr, retention): status, times, counts, errors
  rejects [--table T] [--limit N]
                                the quarantined source rows, latest first: table, id, reason,
                                the row as read, and the sync run or CDR file it came from
  billing --month YYYY-MM       write (or rewrite) a month's reconciliation files, as the
                                monthly job does (through the running server if there is one)
  keys add --partner-id N       create Partner API credentials (X-Auth-ID / X-Auth-Token)
                                for a partner of the source; the token is printed once and
                                stored only as a hash
  keys revoke --auth-id ID      revoke Partner API credentials
  keys list                     list Partner API credentials (never their tokens)
  tokens add --user EMAIL [--name N] [--expires-in 90d|12h|never]
                                create an API token acting as that user, with exactly its
                                scope (Authorization: Bearer cbt_…); printed once, stored
                                only as a hash; 90 days unless --expires-in says otherwise
  tokens list [--user EMAIL]    API tokens with their owner, expiry and last use
  tokens revoke --id ID         revoke an API token: it stops working at once
  subscriptions add --user EMAIL --name N --report FAMILY/NAME --cron CRON --zone ZONE
            [--window W] [--format csv|xlsx|html] [--param K=V …] [--email ADDR …] [--webhook URL …]
                                schedule a report for delivery as that user (windows:
                                yesterday, last_7_days, month_to_date, last_month)
  subscriptions list            every subscription with its next run
  subscriptions deliveries --id N [--limit N]
                                its delivery log: occurrence, channel, status, attempts, error
  subscriptions pause|resume|remove --id N
  help                          print this help

Environment (defaults in brackets):
${CONFIG_VARS.map((v) => `  ${v.name.padEnd(34)} ${v.meaning} [${v.default}]`).join('\n')}
`;

class UsageError extends Error {}

function intOption(value: string | undefined, name: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number, got "${value}"`);
  return Number(value);
}

/**
 * Asks the running server of this data directory to do `what` (DuckDB allows one writing
 * process, and the server owns the store): its result, or undefined when no server runs.
 */
async function throughServer(config: Config, what: 'sync' | 'billing' | 'rejects' | 'reset' | 'source', body: Record<string, unknown> = {}): Promise<unknown> {
  const p = paths(config);
  if (!fs.existsSync(p.server)) return undefined;
  const server = JSON.parse(fs.readFileSync(p.server, 'utf8')) as { pid: number; host: string; port: number; controlToken: string };
  if (!processAlive(server.pid)) return undefined;
  const host = server.host === '0.0.0.0' ? '127.0.0.1' : server.host;
  console.log(`The server (pid ${server.pid}) owns the store; asking it to run ${what} …`);
  // The server fails a sync past CALLBOARD_SYNC_TIMEOUT_SEC; this waits a little longer,
  // so a server that stopped answering cannot hold the command either.
  const waitSec = config.syncTimeoutSec + 30;
  let res: Response;
  try {
    res = await fetch(`http://${host}:${server.port}/internal/${what}`, {
      method: 'POST', headers: { 'x-callboard-control': server.controlToken, 'content-type': 'application/json' }, body: JSON.stringify(body),
      signal: AbortSignal.timeout(waitSec * 1000),
    });
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') throw new Error(`the server (pid ${server.pid}) did not answer ${what} within ${waitSec} s (CALLBOARD_SYNC_TIMEOUT_SEC + 30 s)`);
    throw err;
  }
  const answer = (await res.json()) as { result?: unknown; message?: string };
  if (res.status === 409) throw new SourceMismatchError(answer.message ?? 'the store was built from another source');
  if (!res.ok) throw new Error(`the server refused ${what}: ${answer.message ?? res.status}`);
  return answer.result;
}

/** The store opened by this process (no server runs), or a clear refusal. */
async function openStore(config: Config): Promise<Store> {
  try {
    return await Store.open(paths(config).store, { readers: 1, ...storeMemory(config) });
  } catch (err) {
    if (err instanceof StoreLockedError) throw new UsageError(`${err.message}\nIs a server running from another data directory? Stop it or run the command through it.`);
    throw err;
  }
}

/** Runs `fn` on the store and metadata opened by this process (no server runs), then closes them. */
async function offline<T>(config: Config, fn: (store: Store, meta: MetaDb) => Promise<T>): Promise<T> {
  const meta = await openMeta(paths(config).meta);
  let store: Store;
  try {
    store = await openStore(config);
  } catch (err) {
    await meta.destroy();
    throw err;
  }
  try {
    return await fn(store, meta);
  } finally {
    await store.close();
    await meta.destroy();
  }
}

/** The configured source's URL (the demo source when none is set), or a refusal when there is none yet. */
function sourceUrlOf(config: Config): string {
  const p = paths(config);
  if (!config.source && !fs.existsSync(p.demoSource)) throw new UsageError('no CALLBOARD_SOURCE is set and no demo source exists yet: run `callboard seed` or `npm start` first');
  return config.source ?? `sqlite:${p.demoSource}`;
}

async function cmdSync(config: Config): Promise<void> {
  const remote = await throughServer(config, 'sync');
  if (remote !== undefined) {
    console.log(JSON.stringify(remote, null, 2));
    return;
  }
  const url = sourceUrlOf(config);
  const r = await offline(config, (store, meta) => new SyncJob(store, meta, url, {
    ...syncJobOptions(config, paths(config).rebuildFlag),
    onBatch: (table, s) => console.log(`batch ${table}: ${s.read} read, ${s.upserted} upserted, ${s.rejected} rejected`),
  }).run());
  console.log(`sync done: ${r.read} rows read, ${r.upserted} upserted, ${r.rejected} rejected in ${r.ms} ms`);
}

async function cmdBilling(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { month: { type: 'string' } } });
  if (!values.month) throw new UsageError('usage: callboard billing --month YYYY-MM');
  const problem = monthProblem(values.month, new Date());
  if (problem) throw new UsageError(problem);
  const show = (r: BillingFiles) => {
    console.log(`billing ${r.month}: ${r.accounts} accounts, ${r.mismatched} with mismatches${r.complete ? '' : ' (the month has not ended in every account\'s timezone: the figures are partial)'}`);
    for (const f of r.files) console.log(`  ${f}`);
  };
  const remote = await throughServer(config, 'billing', { month: values.month });
  if (remote !== undefined) return show(remote as BillingFiles);
  const [{ BillingJob }, { ReportEngine }, { billingDir }] = await Promise.all([import('../../jobs/billing.ts'), import('../reports/engine.ts'), import('../server.ts')]);
  show(await offline(config, (store, meta) => new BillingJob(new ReportEngine(store), meta, billingDir(config), config.billingZone).run(values.month!)));
}

async function cmdRejects(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { table: { type: 'string' }, limit: { type: 'string' } } });
  const problems = rejectFilterErrors(values.table);
  if (values.limit !== undefined && !validLimit(values.limit)) problems.set('limit', ['--limit must be an integer from 1 to 1000.']);
  if (problems.size) throw new UsageError([...problems.values()].flat().join(' '));
  const table = values.table ?? null;
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  const show = (r: { total: number; rows: RejectRow[] }) => {
    if (r.total === 0) console.log(table ? `no quarantined ${table} rows` : 'no quarantined rows');
    for (const x of r.rows) {
      console.log(`${x.last_seen}  ${x.table} ${x.source_id ?? '?'}  ${x.reason}${x.seen_count > 1 ? ` (seen ${x.seen_count} times)` : ''}  from ${x.loaded_by ?? 'an earlier sync'}`);
      console.log(`  ${JSON.stringify(x.raw)}`);
    }
    if (r.total > r.rows.length) console.log(`… ${r.total - r.rows.length} more (--limit)`);
  };
  const remote = await throughServer(config, 'rejects', { table, limit });
  if (remote !== undefined) return show(remote as { total: number; rows: RejectRow[] });
  show(await offline(config, (store) => listRejects(store, { table, limit })));
}

/** The source this data directory's store was built from, or null (no store, or none recorded). */
async function storeSource(config: Config): Promise<SourceIdentity | null> {
  const remote = await throughServer(config, 'source');
  if (remote !== undefined) return remote as SourceIdentity | null;
  if (!fs.existsSync(paths(config).store)) return null;
  return offline(config, (store) => storedSource(store));
}

async function cmdReset(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { yes: { type: 'boolean' } } });
  const p = paths(config);
  const url = sourceUrlOf(config);
  if (!values.yes) {
    const prompt = `This empties the store ${p.store} and rebuilds it from ${redactSourceUrl(url)}. Type "yes" to go on: `;
    if (!process.stdin.isTTY) throw new UsageError(`refusing to empty the store without confirmation: run \`callboard reset --yes\``);
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question(prompt);
    rl.close();
    if (answer.trim().toLowerCase() !== 'yes') throw new UsageError('not confirmed: the store is unchanged');
  }
  const show = (r: SyncResult) => console.log(`store rebuilt from ${redactSourceUrl(url)}: ${r.read} rows read, ${r.upserted} upserted, ${r.rejected} rejected in ${r.ms} ms`);
  const remote = await throughServer(config, 'reset');
  if (remote !== undefined) return show(remote as SyncResult);
  show(await offline(config, (store, meta) => new SyncJob(store, meta, url, syncJobOptions(config, p.rebuildFlag)).reset()));
}

async function cmdSeed(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args, options: { out: { type: 'string' }, calls: { type: 'string' }, days: { type: 'string' }, now: { type: 'string' }, seed: { type: 'string' }, force: { type: 'boolean' } },
  });
  const url = values.out ?? `sqlite:${paths(config).demoSource}`;
  // Regenerating the source a store was built from would merge two databases in it.
  const built = await storeSource(config);
  const overwrites = built !== null && built.url === redactSourceUrl(url);
  if (overwrites && !values.force) {
    throw new UsageError(`${redactSourceUrl(url)} is the source the store ${paths(config).store} was built from: regenerating it would merge two databases in the store.\nRun with --force to overwrite it; the next sync then rebuilds the store from scratch.`);
  }
  const now = values.now ? new Date(values.now) : new Date();
  if (Number.isNaN(now.getTime())) throw new UsageError(`--now "${values.now}" is not an ISO-8601 instant`);
  const calls = intOption(values.calls, 'calls', 200_000)!;
  if (calls > 10_000_000) throw new UsageError('--calls may be at most 10000000');
  const started = Date.now();
  let last = -1;
  const { generateSource } = await import('../../fixtures/generate.ts');
  const summary = await generateSource({
    url, calls, now, days: intOption(values.days, 'days', 120), seed: intOption(values.seed, 'seed', 42),
    onProgress: (done, total) => {
      const pct = Math.floor((done / total) * 20) * 5;
      if (pct !== last) process.stderr.write(`\r${pct}% of ${total} calls`);
      last = pct;
    },
  });
  process.stderr.write('\n');
  console.log(`wrote ${url} in ${Date.now() - started} ms (now = ${summary.now}):`);
  for (const [t, n] of Object.entries(summary.counts)) console.log(`  ${t.padEnd(20)} ${n}`);
  if (overwrites) {
    fs.writeFileSync(paths(config).rebuildFlag, `callboard seed --force over ${redactSourceUrl(url)}\n`);
    console.log(`the store ${paths(config).store} will be rebuilt from scratch by the next sync`);
  }
}

/**
 * Refuses an account or partner id the configured source does not have: a user or key for
 * one would see nothing, or (given to the wrong role) everything. A platform's API source
 * has the one account of its URL.
 */
async function mustExist(config: Config, table: 'accounts' | 'partners', id: number): Promise<void> {
  const url = sourceUrlOf(config);
  const noun = table === 'accounts' ? 'account' : 'partner';
  if (url.startsWith('platform+')) {
    const { accountId } = parsePlatformUrl(url);
    if (table === 'accounts' && accountId === id) return;
    throw new UsageError(`no ${noun} ${id} in the source (the platform source serves account ${accountId} only)`);
  }
  const source = connectSource(url, { timeouts: config.sourceTimeouts });
  try {
    const row = await source.db.selectFrom(table).select('id').where('id', '=', id).executeTakeFirst();
    if (!row) throw new UsageError(`no ${noun} ${id} in the source (${redactSourceUrl(url)})`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot check ${noun} ${id} against the source: ${(err as Error).message}`);
  } finally {
    await source.close();
  }
}

const USERS_USAGE = `usage: callboard users list
       callboard users add --email E --password P --role admin|partner|account [--account-id N | --partner-id N]
       callboard users disable|enable|remove --email E
       callboard users passwd --email E --password P`;

async function cmdUsers(config: Config, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (!['list', 'add', 'disable', 'enable', 'remove', 'passwd'].includes(sub)) throw new UsageError(USERS_USAGE);
  const { values } = parseArgs({
    args: rest,
    options: {
      email: { type: 'string' }, password: { type: 'string' }, role: { type: 'string' }, 'account-id': { type: 'string' },
      'partner-id': { type: 'string' }, 'first-name': { type: 'string' }, 'last-name': { type: 'string' },
    },
  });
  if (sub !== 'list' && !values.email) throw new UsageError(`--email is required\n${USERS_USAGE}`);
  const email = values.email!;
  let accountId: number | null = null;
  let partnerId: number | null = null;
  if (sub === 'add') {
    if (!values.password || !values.role) throw new UsageError('--email, --password and --role are required');
    if (!['admin', 'partner', 'account'].includes(values.role)) throw new UsageError(`--role must be admin, partner or account, got "${values.role}"`);
    accountId = intOption(values['account-id'], 'account-id') ?? null;
    partnerId = intOption(values['partner-id'], 'partner-id') ?? null;
  }
  if (sub === 'passwd' && !values.password) throw new UsageError('--password is required');
  const meta = await openMeta(paths(config).meta);
  try {
    if (sub === 'list') {
      for (const u of await listUsers(meta)) {
        const scope = u.role === 'account' ? ` of account ${u.account_id}` : u.role === 'partner' ? ` of partner ${u.partner_id}` : '';
        console.log(`${String(u.id).padStart(4)}  ${u.email.padEnd(32)} ${u.role}${scope}  created ${u.created_at}${u.disabled_at ? `  DISABLED ${u.disabled_at}` : ''}`);
      }
      return;
    }
    if (sub === 'add') {
      const user = { email, password: values.password!, role: values.role as 'admin' | 'partner' | 'account', accountId, partnerId, firstName: values['first-name'], lastName: values['last-name'] };
      // The role's own checks first (a misfit option), then the id against the source.
      checkNewUser(user);
      if (user.role === 'account') await mustExist(config, 'accounts', accountId!);
      if (user.role === 'partner') await mustExist(config, 'partners', partnerId!);
      const id = await addUser(meta, user);
      console.log(`user ${id} created: ${email} (${values.role})`);
    } else if (sub === 'disable' || sub === 'enable') {
      await setDisabled(meta, email, sub === 'disable');
      console.log(sub === 'disable' ? `${email} disabled: its sessions and tokens stop working now` : `${email} enabled`);
    } else if (sub === 'remove') {
      await removeUser(meta, email);
      console.log(`${email} removed, with its sessions`);
    } else {
      await setPassword(meta, email, values.password!);
      console.log(`${email}: password changed; its sessions ended`);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  } finally {
    await meta.destroy();
  }
}

async function cmdJobs(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { job: { type: 'string' }, limit: { type: 'string' } } });
  const problems = runFilterErrors(values.job, values.limit);
  if (problems.size) throw new UsageError([...problems.values()].flat().join(' '));
  const meta = await openMeta(paths(config).meta);
  try {
    const runs = await listRuns(meta, { job: values.job ?? null, limit: values.limit === undefined ? 20 : Number(values.limit) });
    if (runs.length === 0) console.log('no job runs yet');
    for (const r of runs) {
      const took = r.ms === null ? 'running' : `${r.ms} ms`;
      const stats = r.stats && typeof r.stats === 'object' ? summarise(r.stats as Record<string, unknown>) : '';
      console.log(`#${r.id}  ${r.job.padEnd(8)} ${r.status.padEnd(11)} ${r.started_at}  ${took.padStart(10)}  ${stats}${r.error ? `  error: ${r.error}` : ''}`);
    }
  } finally {
    await meta.destroy();
  }
}

/** The counts of a run's stats on one line (read/upserted/rejected, or month/accounts). */
function summarise(stats: Record<string, unknown>): string {
  return ['read', 'upserted', 'rejected', 'month', 'accounts', 'mismatched']
    .filter((k) => stats[k] !== undefined).map((k) => `${k}=${String(stats[k])}`).join(' ');
}

async function cmdKeys(config: Config, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { 'partner-id': { type: 'string' }, 'auth-id': { type: 'string' } } });
  const meta = await openMeta(paths(config).meta);
  try {
    if (sub === 'add') {
      const partnerId = intOption(values['partner-id'], 'partner-id');
      if (!partnerId) throw new UsageError('--partner-id N is required');
      await mustExist(config, 'partners', partnerId);
      const key = await addKey(meta, partnerId);
      console.log(`Partner API credentials for partner ${partnerId} (the token is shown this once; keep it safe):`);
      console.log(`  X-Auth-ID:    ${key.authId}`);
      console.log(`  X-Auth-Token: ${key.token}`);
    } else if (sub === 'revoke') {
      if (!values['auth-id']) throw new UsageError('--auth-id ID is required');
      if (!(await revokeKey(meta, values['auth-id']))) throw new UsageError(`no live key ${values['auth-id']}`);
      console.log(`revoked ${values['auth-id']}`);
    } else if (sub === 'list') {
      for (const k of await listKeys(meta)) console.log(`${k.auth_id}  partner ${k.partner_id}  created ${k.created_at}${k.revoked_at ? `  revoked ${k.revoked_at}` : ''}`);
    } else {
      throw new UsageError('usage: callboard keys add --partner-id N | keys revoke --auth-id ID | keys list');
    }
  } finally {
    await meta.destroy();
  }
}

const TOKENS_USAGE = 'usage: callboard tokens add --user EMAIL [--name N] [--expires-in 90d|12h|never] | tokens list [--user EMAIL] | tokens revoke --id ID';

async function cmdTokens(config: Config, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (!['add', 'list', 'revoke'].includes(sub)) throw new UsageError(TOKENS_USAGE);
  const { values } = parseArgs({ args: rest, options: { user: { type: 'string' }, name: { type: 'string' }, 'expires-in': { type: 'string' }, id: { type: 'string' } } });
  const meta = await openMeta(paths(config).meta);
  try {
    if (sub === 'add') {
      if (!values.user) throw new UsageError(`--user EMAIL is required\n${TOKENS_USAGE}`);
      const lifetime = parseLifetime(values['expires-in'] ?? DEFAULT_TOKEN_LIFETIME);
      if (lifetime === undefined) throw new UsageError(`--expires-in ${LIFETIME_RULE}, got "${values['expires-in']}"`);
      const name = (values.name ?? 'cli').trim();
      if (name.length < 1 || name.length > 100) throw new UsageError('--name must be 1 to 100 characters');
      const owner = await userId(meta, values.user).catch((err: Error) => { throw new UsageError(err.message); });
      const t = await addApiToken(meta, owner, name, lifetime);
      console.log(`API token ${t.id} "${name}" for ${values.user}, ${t.expiresAt ? `expires ${t.expiresAt}` : 'never expires'} (shown this once; keep it safe):`);
      console.log(`  ${t.token}`);
      console.log('Send it as: Authorization: Bearer <token>');
    } else if (sub === 'list') {
      const owner = values.user ? await userId(meta, values.user).catch((err: Error) => { throw new UsageError(err.message); }) : null;
      const emails = new Map((await listUsers(meta)).map((u) => [u.id, u.email]));
      const rows = await listApiTokens(meta, owner);
      if (rows.length === 0) console.log('no API tokens');
      for (const t of rows) {
        const state = t.revoked_at ? `revoked ${t.revoked_at}` : t.expires_at && Date.parse(t.expires_at) <= Date.now() ? `expired ${t.expires_at}` : t.expires_at ? `expires ${t.expires_at}` : 'never expires';
        console.log(`${t.id}  ${(emails.get(t.user_id) ?? `user ${t.user_id}`).padEnd(28)} ${JSON.stringify(t.name).padEnd(20)} created ${t.created_at}  ${state}  last used ${t.last_used_at ?? 'never'}`);
      }
    } else {
      if (!values.id) throw new UsageError('--id ID is required');
      if (!(await revokeApiToken(meta, values.id, null))) throw new UsageError(`no live API token ${values.id}`);
      console.log(`revoked ${values.id}: it stops working now`);
    }
  } finally {
    await meta.destroy();
  }
}

const SUBS_USAGE = `usage: callboard subscriptions add --user EMAIL --name N --report FAMILY/NAME --cron CRON --zone ZONE [--window W] [--format csv|xlsx|html] [--param K=V …] [--email ADDR …] [--webhook URL …]
       callboard subscriptions list
       callboard subscriptions deliveries --id N [--limit N]
       callboard subscriptions pause|resume|remove --id N`;

async function cmdSubscriptions(config: Config, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (!['add', 'list', 'deliveries', 'pause', 'resume', 'remove'].includes(sub)) throw new UsageError(SUBS_USAGE);
  const { values } = parseArgs({
    args: rest,
    options: {
      user: { type: 'string' }, name: { type: 'string' }, report: { type: 'string' }, cron: { type: 'string' }, zone: { type: 'string' },
      window: { type: 'string' }, format: { type: 'string' }, param: { type: 'string', multiple: true }, email: { type: 'string', multiple: true },
      webhook: { type: 'string', multiple: true }, id: { type: 'string' }, limit: { type: 'string' },
    },
  });
  const [{ addSubscription, checkSubscription, getSubscription, listSubscriptions, removeSubscription, setPaused }, { reportCatalogue }] = await Promise.all([
    import('../delivery/subscriptions.ts'), import('../reports/registry.ts'),
  ]);
  const meta = await openMeta(paths(config).meta);
  const now = new Date();
  try {
    if (sub === 'add') {
      if (!values.user) throw new UsageError(`--user EMAIL is required\n${SUBS_USAGE}`);
      const owner = await userId(meta, values.user).catch((err: Error) => { throw new UsageError(err.message); });
      const params: Record<string, string> = {};
      for (const kv of values.param ?? []) {
        const i = kv.indexOf('=');
        if (i < 1) throw new UsageError(`--param must be KEY=VALUE, got "${kv}"`);
        params[kv.slice(0, i)] = kv.slice(i + 1);
      }
      const channels = [
        ...(values.email?.length ? [{ type: 'email', to: values.email }] : []),
        ...(values.webhook ?? []).map((url) => ({ type: 'webhook', url })),
      ];
      let checked;
      try {
        checked = checkSubscription({
          name: values.name, report: values.report, cron: values.cron, zone: values.zone, params, channels,
          ...(values.window ? { window: values.window } : {}), ...(values.format ? { format: values.format } : {}),
        }, reportCatalogue(config.callerIdThresholds), { allowPrivateWebhooks: config.webhookAllowPrivate }, now);
      } catch (err) {
        if (err instanceof ValidationError) throw new UsageError(Object.entries(err.errors).map(([k, v]) => `${k}: ${v.join(' ')}`).join('\n'));
        throw err;
      }
      if (!config.smtpUrl && checked.channels.some((c) => c.type === 'email')) throw new UsageError('e-mail delivery needs CALLBOARD_SMTP_URL');
      const s = await addSubscription(meta, owner, checked, now);
      console.log(`subscription ${s.id} "${s.name}": ${s.report}, "${s.cron}" in ${s.zone}, next run ${s.nextRunAt}`);
      for (const c of s.channels) if (c.type === 'webhook') console.log(`  webhook ${c.url}: signing secret ${c.secrets[0].secret} (verify with any Standard Webhooks library)`);
      return;
    }
    if (sub === 'list') {
      const all = await listSubscriptions(meta, null);
      if (all.length === 0) console.log('no subscriptions');
      const emails = new Map((await listUsers(meta)).map((u) => [u.id, u.email]));
      for (const s of all) {
        const to = s.channels.map((c) => (c.type === 'email' ? c.to.join(',') : c.url)).join(' ');
        console.log(`${String(s.id).padStart(4)}  ${JSON.stringify(s.name)}  ${s.kind === 'alert' ? `alert ${String(s.rule?.type)}` : `${s.report} ${s.window ?? ''} ${s.format}`}  "${s.cron}" ${s.zone}  owner ${emails.get(s.userId) ?? s.userId}  ${s.pausedAt ? `PAUSED ${s.pausedAt}` : `next ${s.nextRunAt}`}  → ${to}`);
      }
      return;
    }
    const id = intOption(values.id, 'id');
    if (!id) throw new UsageError(`--id N is required\n${SUBS_USAGE}`);
    const s = await getSubscription(meta, id, null);
    if (!s) throw new UsageError(`no subscription ${id}`);
    if (sub === 'deliveries') {
      const limit = intOption(values.limit, 'limit', 20)!;
      const rows = await meta.selectFrom('deliveries').selectAll().where('subscription_id', '=', id).orderBy('created_at', 'desc').limit(limit).execute();
      if (rows.length === 0) console.log('no deliveries yet');
      for (const r of rows) console.log(`${r.id}  ${r.occurrence}  ${r.channel}  ${r.status.padEnd(7)} ${r.attempts} attempt(s)${r.late ? '  late' : ''}${r.sent_at ? `  sent ${r.sent_at}` : ''}${r.status === 'pending' && r.attempts ? `  next ${r.next_attempt_at}` : ''}${r.last_error ? `  error: ${r.last_error}` : ''}`);
    } else if (sub === 'remove') {
      await removeSubscription(meta, id);
      console.log(`subscription ${id} removed, with its delivery log`);
    } else {
      await setPaused(meta, s, sub === 'pause', now);
      console.log(`subscription ${id} ${sub === 'pause' ? 'paused' : `resumed: next run ${(await getSubscription(meta, id, null))!.nextRunAt}`}`);
    }
  } finally {
    await meta.destroy();
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(HELP);
    return command ? 0 : 1;
  }
  try {
    const config = loadConfig();
    ownerOnly(config);
    switch (command) {
      case 'serve': {
        // The server's modules load for `serve` only: every other command starts faster.
        const { serve } = await import('../server.ts');
        const server = await serve(config);
        const stop = async () => {
          // Whatever still runs after the bound (a request, a job) does not keep the process.
          setTimeout(() => {
            console.error(`callboard: shutdown took longer than ${config.shutdownTimeoutSec} s (CALLBOARD_SHUTDOWN_TIMEOUT_SEC); exiting`);
            process.exit(1);
          }, config.shutdownTimeoutSec * 1000).unref();
          await server.close();
          process.exit(0);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        return -1; // keep running
      }
      case 'sync': await cmdSync(config); return 0;
      case 'seed': await cmdSeed(config, args); return 0;
      case 'users': await cmdUsers(config, args); return 0;
      case 'keys': await cmdKeys(config, args); return 0;
      case 'tokens': await cmdTokens(config, args); return 0;
      case 'subscriptions': await cmdSubscriptions(config, args); return 0;
      case 'jobs': await cmdJobs(config, args); return 0;
      case 'billing': await cmdBilling(config, args); return 0;
      case 'rejects': await cmdRejects(config, args); return 0;
      case 'reset': await cmdReset(config, args); return 0;
      default:
        console.error(`unknown command "${command}"\n`);
        process.stdout.write(HELP);
        return 2;
    }
  } catch (err) {
    if (err instanceof ConfigError) console.error(`configuration error: ${err.message}`);
    else if (err instanceof UsageError) console.error(`callboard ${command}: ${err.message}`);
    else if (err instanceof StoreLockedError) console.error(`callboard ${command}: ${err.message}`);
    else if (err instanceof SourceMismatchError) console.error(`callboard ${command}: ${err.message}`);
    // Anything else is one line too; its stack is for CALLBOARD_LOG_LEVEL=debug.
    else if (process.env.CALLBOARD_LOG_LEVEL === 'debug' || process.env.CALLBOARD_LOG_LEVEL === 'trace' || !(err instanceof Error)) console.error(err);
    else console.error(`callboard ${command}: ${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}`);
    return err instanceof ConfigError || err instanceof UsageError || err instanceof SourceMismatchError ? 2 : 1;
  }
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
