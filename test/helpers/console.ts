import type { FastifyInstance } from 'fastify';
import { parseHTML } from 'linkedom';
import { PASSWORD } from './fixture.ts';

/** The cookies a response sets, as `name=value` pairs. */
export function setCookies(res: { headers: Record<string, unknown> }): string[] {
  const raw = res.headers['set-cookie'];
  return (Array.isArray(raw) ? raw : raw === undefined ? [] : [String(raw)]).map((c) => String(c));
}

const pairs = (cookies: string[]) => cookies.map((c) => c.split(';')[0]);

/** The CSRF cookie and token of the sign-in form. */
export async function signInForm(app: FastifyInstance): Promise<{ cookie: string; csrf: string }> {
  const res = await app.inject({ method: 'GET', url: '/' });
  const csrf = parseHTML(res.body).document.querySelector('input[name=_csrf]')?.getAttribute('value');
  if (!csrf) throw new Error('the sign-in form has no CSRF token');
  return { cookie: pairs(setCookies(res)).join('; '), csrf };
}

/** Signs in through the form, as a browser does; the Cookie header of the session. */
export async function signIn(app: FastifyInstance, email: string, password = PASSWORD): Promise<string> {
  const form = await signInForm(app);
  const res = await app.inject({
    method: 'POST', url: '/login', headers: { cookie: form.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: form.csrf, email, password }).toString(),
  });
  if (res.statusCode !== 303) throw new Error(`sign-in answered ${res.statusCode}`);
  return [form.cookie, ...pairs(setCookies(res))].join('; ');
}

/** A console page as a DOM (linkedom), with its status and headers. */
export async function page(app: FastifyInstance, url: string, cookie: string) {
  const res = await app.inject({ method: 'GET', url, headers: { cookie } });
  return { status: res.statusCode, headers: res.headers, body: res.body, document: parseHTML(res.body).document };
}
