import path from 'node:path';
import { views as eta } from './views.ts';
import type { Rendered } from './render.ts';
import type { Subscription } from './subscriptions.ts';


/** What an alert notification says: one rule instance's state change (or a reminder while it fires). */
export interface AlertPayload {
  rule: string;
  /** The rule instance: the campaign, the caller ID, the month… */
  instance: string;
  title: string;
  state: string;
  previous: string;
  /** A reminder while firing, not a change of state. */
  reminder: boolean;
  /** When the condition was evaluated (ISO instant). */
  at: string;
  /** Figures behind the state, label and value, in order. */
  figures: [string, string][];
  /** Where to look: a console or API path. */
  link: string | null;
}

/** The e-mail and webhook text of an alert notification. */
export function alertMessage(s: Subscription, p: AlertPayload, publicUrl: string): Rendered {
  const head = p.reminder ? `[${p.state.toUpperCase()}, still]` : `[${p.state.toUpperCase()}]`;
  const subject = `${head} ${p.title}`;
  const figures: [string, string][] = [['State', `${p.state}${p.reminder ? ' (reminder)' : ` (was ${p.previous})`}`], ['Evaluated', p.at], ...p.figures];
  const html = eta.render('summary', {
    title: subject, subtitle: `${s.name} · ${p.instance}`, late: false, runLocal: '', notice: null, link: null, alert: figures,
    subscription: s.name, dataAsOf: null, attached: false,
  });
  const text = [subject, `${s.name} · ${p.instance}`, '', ...figures.map(([k, v]) => `${k}: ${v}`), ...(p.link ? ['', `${publicUrl}${p.link}`] : [])].join('\n');
  return { subject, html, text, file: null, body: null, window: null };
}
