import { userById, type MetaDb } from '../meta/db.ts';
import { hashPassword, passwordProblem, verifyPassword } from './password.ts';
import type { Principal, Role } from './principal.ts';

export interface NewUser {
  email: string;
  password: string;
  role: Role;
  accountId?: number | null;
  partnerId?: number | null;
  firstName?: string;
  lastName?: string;
}

/** What is wrong with a new user, thrown: a bad email or password, or an id that does not fit the role. */
export function checkNewUser(u: NewUser): void {
  const email = u.email.trim().toLowerCase();
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new Error(`"${u.email}" is not an email address`);
  const weak = passwordProblem(u.password);
  if (weak) throw new Error(weak);
  if (u.role === 'account' && !u.accountId) throw new Error('an account user needs --account-id');
  if (u.role === 'partner' && !u.partnerId) throw new Error('a partner user needs --partner-id');
  // An option that does not fit the role would be silently ignored: an admin given
  // --account-id would still see every account.
  if (u.role !== 'account' && u.accountId) throw new Error(`--account-id is for account users; a ${u.role} user ${u.role === 'admin' ? 'sees every account' : 'sees its partner\'s accounts'}`);
  if (u.role !== 'partner' && u.partnerId) throw new Error(`--partner-id is for partner users, not ${u.role} users`);
}

/** Creates a user with a password hash (password.ts); the role decides which id it needs. */
export async function addUser(meta: MetaDb, u: NewUser): Promise<number> {
  checkNewUser(u);
  const email = u.email.trim().toLowerCase();
  const existing = await meta.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst();
  if (existing) throw new Error(`a user ${email} exists already`);
  const res = await meta.insertInto('users').values({
    email, password_hash: await hashPassword(u.password), role: u.role,
    account_id: u.role === 'account' ? u.accountId ?? null : null, partner_id: u.role === 'partner' ? u.partnerId ?? null : null,
    first_name: u.firstName ?? '', last_name: u.lastName ?? '', created_at: new Date().toISOString(),
  }).executeTakeFirstOrThrow();
  return Number(res.insertId);
}

// A real hash to compare against when the email is unknown, so both paths cost the same.
let dummyHash: Promise<string> | null = null;

/**
 * The user for an email and password, or null; the same work whether or not the email
 * exists. A hash of the older kind is replaced at the first successful login.
 */
export async function checkPassword(meta: MetaDb, email: string, password: string) {
  const user = await meta.selectFrom('users').selectAll().where('email', '=', email.trim().toLowerCase()).executeTakeFirst();
  const { ok, upgrade } = await verifyPassword(password, user?.password_hash ?? (await (dummyHash ??= hashPassword('callboard-timing-equaliser'))));
  if (!ok || !user || user.disabled_at !== null) return null;
  if (upgrade) await meta.updateTable('users').set({ password_hash: await hashPassword(password) }).where('id', '=', user.id).execute();
  return user;
}

/** Removes the users with these emails and their refresh tokens (the demo users over a real source). */
export async function removeDemoUsers(meta: MetaDb, emails: readonly string[]): Promise<number> {
  const users = await meta.selectFrom('users').select('id').where('email', 'in', [...emails]).execute();
  if (users.length === 0) return 0;
  const ids = users.map((u) => u.id);
  await meta.deleteFrom('refresh_tokens').where('user_id', 'in', ids).execute();
  await meta.deleteFrom('api_tokens').where('user_id', 'in', ids).execute();
  await meta.deleteFrom('users').where('id', 'in', ids).execute();
  return ids.length;
}

/** The user of a token, or null when it was removed or is disabled: its tokens stop working at once. */
export async function principalOf(meta: MetaDb, userId: number): Promise<Principal | null> {
  const u = userById(meta, userId);
  if (!u || u.disabled_at !== null) return null;
  return { userId: u.id, email: u.email, role: u.role, accountId: u.account_id, partnerId: u.partner_id };
}

/** Every user, for `callboard users list` (never a hash). */
export async function listUsers(meta: MetaDb) {
  return meta.selectFrom('users').select(['id', 'email', 'role', 'account_id', 'partner_id', 'created_at', 'disabled_at']).orderBy('id').execute();
}

export async function userId(meta: MetaDb, email: string): Promise<number> {
  const u = await meta.selectFrom('users').select('id').where('email', '=', email.trim().toLowerCase()).executeTakeFirst();
  if (!u) throw new Error(`no user ${email}`);
  return u.id;
}

/** Revokes every live refresh token of a user. */
async function revokeAll(meta: MetaDb, id: number): Promise<void> {
  await meta.updateTable('refresh_tokens').set({ revoked_at: new Date().toISOString() }).where('user_id', '=', id).where('revoked_at', 'is', null).execute();
}

/** Disables (or enables) a user: disabling revokes its refresh tokens, and its access tokens stop working at once. */
export async function setDisabled(meta: MetaDb, email: string, disabled: boolean): Promise<void> {
  const id = await userId(meta, email);
  await meta.transaction().execute(async (tx) => {
    await tx.updateTable('users').set({ disabled_at: disabled ? new Date().toISOString() : null }).where('id', '=', id).execute();
    if (disabled) await revokeAll(tx, id);
  });
}

/** Removes a user with its refresh and API tokens, subscriptions and alerts. */
export async function removeUser(meta: MetaDb, email: string): Promise<void> {
  const id = await userId(meta, email);
  await meta.transaction().execute(async (tx) => {
    await tx.deleteFrom('refresh_tokens').where('user_id', '=', id).execute();
    await tx.deleteFrom('api_tokens').where('user_id', '=', id).execute();
    // Its subscriptions and alerts go with it: nobody is left to own what they send.
    const subs = tx.selectFrom('subscriptions').select('id').where('user_id', '=', id);
    await tx.deleteFrom('deliveries').where('subscription_id', 'in', subs).execute();
    await tx.deleteFrom('alert_states').where('subscription_id', 'in', subs).execute();
    await tx.deleteFrom('subscriptions').where('user_id', '=', id).execute();
    await tx.deleteFrom('users').where('id', '=', id).execute();
  });
}

/** Sets a new password; the user's sessions end (refresh tokens revoked). */
export async function setPassword(meta: MetaDb, email: string, password: string): Promise<void> {
  const weak = passwordProblem(password);
  if (weak) throw new Error(weak);
  const id = await userId(meta, email);
  const hash = await hashPassword(password);
  await meta.transaction().execute(async (tx) => {
    await tx.updateTable('users').set({ password_hash: hash }).where('id', '=', id).execute();
    await revokeAll(tx, id);
  });
}
