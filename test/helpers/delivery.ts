import http from 'node:http';
import path from 'node:path';
import { DeliveryRenderer } from '../../src/delivery/render.ts';
import { LinkSigner } from '../../src/delivery/signing.ts';
import { DeliveryWorker } from '../../src/delivery/worker.ts';
import type { AppOptions } from '../../src/http/app.ts';
import type { MetaDb } from '../../src/meta/db.ts';
import { ReportEngine } from '../../src/reports/engine.ts';
import { reportCatalogue } from '../../src/reports/registry.ts';
import type { Store } from '../../src/store/duckdb.ts';
import { FIXTURE_NOW, JWT_SECRET } from './fixture.ts';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

/** A real SMTP server in the test process; every message is read back by mailparser. */
export async function smtpSink(opts: { maxBytes?: number } = {}): Promise<{ url: string; messages: ParsedMail[]; raw: Buffer[]; close: () => Promise<void> }> {
  const messages: ParsedMail[] = [];
  const raw: Buffer[] = [];
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false,
    // The size option only advertises the limit; rejectOversized makes the server refuse with 552.
    ...(opts.maxBytes ? { size: opts.maxBytes, rejectOversized: true, hideSize: true } : {}),
    onData(stream, _session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) return done();
        const buf = Buffer.concat(chunks);
        raw.push(buf);
        simpleParser(buf).then((m) => { messages.push(m); done(); }, done);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { url: `smtp://127.0.0.1:${port}`, messages, raw, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export interface Received {
  headers: Record<string, string>;
  body: string;
  answered: number | 'hang';
}

/**
 * A webhook receiver answering by script: each request takes the next answer (a status,
 * or 'hang' for no answer at all); the last answer repeats.
 */
export async function webhookReceiver(script: (number | 'hang')[]): Promise<{ url: string; received: Received[]; script: (number | 'hang')[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const hanging: http.ServerResponse[] = [];
  const state = { script };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = state.script.length > 1 ? state.script.shift()! : state.script[0];
      received.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8'), answered: answer });
      if (answer === 'hang') return void hanging.push(res);
      res.writeHead(answer, answer >= 300 && answer < 400 ? { location: 'http://127.0.0.1:1/elsewhere' } : {}).end('');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`, received, script: state.script,
    close: async () => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** App options (for makeApp) that serve scheduled delivery: a real worker on the test's store and metadata. */
export function withDelivery(o: { email?: boolean; allowPrivateWebhooks?: boolean } = {}) {
  return (store: Store, meta: MetaDb, dir: string): Partial<AppOptions> => {
    const links = new LinkSigner(JWT_SECRET);
    const files = path.join(dir, 'deliveries');
    const worker = new DeliveryWorker({
      meta, store, links, mailer: null, publicUrl: 'http://callboard.test', maxAttachBytes: 1e6, linkTtlSec: 3600, allowPrivateWebhooks: o.allowPrivateWebhooks,
      renderer: new DeliveryRenderer(new ReportEngine(store, () => FIXTURE_NOW), reportCatalogue(), files),
    });
    return { delivery: { worker, links, dir: files, limits: { allowPrivateWebhooks: o.allowPrivateWebhooks }, email: o.email ?? false } };
  };
}
