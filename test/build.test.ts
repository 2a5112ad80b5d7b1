import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import t from 'tap';
import { makeSource, tmpDir } from './helpers/fixture.ts';

// `npm start` runs the compiled build (dist/), not tsx: the same server, about 40 MB
// lighter. This builds it with `npm run build`, as `npm start` does, and serves a report
// from it, so a path that only resolves under tsx (sql/, say) fails here, not on a user's
// machine.
const root = path.resolve('.');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

t.test('the compiled build serves the reports', async (t) => {
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, encoding: 'utf8' });
  t.equal(build.status, 0, `npm run build: ${build.stdout}${build.stderr}`);
  const main = path.join(root, 'dist/src/cli/main.js');

  const dir = tmpDir('build');
  const source = await makeSource(dir, 2_000);
  const port = await freePort();
  const env = {
    ...process.env, CALLBOARD_DATA_DIR: path.join(dir, 'data'), CALLBOARD_SOURCE: `sqlite:${source}`, HOST: '127.0.0.1', PORT: String(port),
    CALLBOARD_SYNC_CRON: '0 0 1 1 *', CALLBOARD_MONITOR_CRON: '0 0 1 1 *', CALLBOARD_CDR_CRON: '0 0 1 1 *', CALLBOARD_LOG_LEVEL: 'warn',
  };
  const add = spawnSync(process.execPath, [main, 'users', 'add', '--email', 'built@local', '--password', 'built-password', '--role', 'admin'], { env, encoding: 'utf8' });
  t.equal(add.status, 0, `users add: ${add.stderr}`);

  const server = spawn(process.execPath, [main, 'serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  server.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  t.teardown(() => { server.kill('SIGTERM'); });
  const base = `http://127.0.0.1:${port}`;
  const end = Date.now() + 60_000;
  for (;;) {
    const up = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
    if (up) break;
    if (server.exitCode !== null || Date.now() > end) throw new Error(`the built server did not come up: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const login = await fetch(`${base}/api/accounts/login/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'built@local', password: 'built-password' }) });
  t.equal(login.status, 200, 'login');
  const token = ((await login.json()) as { data: { token: { access: string } } }).data.token.access;
  // The report's SQL is read from sql/ at the project's root, three levels above dist/src/store;
  // the first sync runs at start (reports answer 503 until it is done), then the dials appear.
  let dials = 0;
  while (dials === 0 && Date.now() < end) {
    const res = await fetch(`${base}/api/telesales/reports/dashboard?date_from=2027-01-01&date_to=2027-01-09`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { data?: { total_dials?: number } };
    if (res.status !== 200 && res.status !== 503) throw new Error(`dashboard: ${res.status} ${JSON.stringify(body)}`);
    dials = body.data?.total_dials ?? 0;
    if (dials === 0) await new Promise((r) => setTimeout(r, 200));
  }
  t.ok(dials > 0, `the built server synced the source and counts ${dials} dials`);
});
