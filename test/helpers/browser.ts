import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, whose version matches playwright-core's browser table (see DESIGN notes in docs/console.md). */
export const CHROMIUM = process.env.CALLBOARD_CHROMIUM ?? '/usr/bin/chromium';

/** Whether the browser tests can run here; CI installs Chromium and never lets them skip. */
export function browserMissing(): string | null {
  if (fs.existsSync(CHROMIUM)) return null;
  return `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CALLBOARD_CHROMIUM)`;
}

/**
 * A headless Chromium for one test file, on a closed network: a fresh profile (Playwright
 * makes one per launch), and none of the background traffic (updates, sync, QUIC) that would stall without one.
 */
export async function launchBrowser(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
    ],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}
