// Opening more demo pages in a HeadlessSession's browser (a URL that
// restores an episode, a page with a scripted speech recognizer), failing on
// console errors like HeadlessSession does, and where screenshots go.
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import type { HeadlessSession } from '../../src/runtime/session.ts';

export const ARTIFACTS = '.artifacts/demo';
mkdirSync(ARTIFACTS, { recursive: true });

/** Chromium/Debian noise that says nothing about our code (as in src/runtime/session.ts). */
const NOISE = [/favicon\.ico/, /dbus/i, /GPU stall due to ReadPixels/i];

export interface DemoPage {
  page: Page;
  errors: string[];
}

export function watchErrors(page: Page, errors: string[]): void {
  page.on('console', (m) => {
    if (m.type() === 'error' && !NOISE.some((re) => re.test(m.text()))) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.stack ?? e.message}`));
}

/** A new demo page at `query` ('?task=...'), optionally with a script run before the page's own. */
export async function openDemo(session: HeadlessSession, query = '', init?: string, viewport = { width: 1280, height: 720 }): Promise<DemoPage> {
  const page = await session.browser.newPage({ viewport });
  const errors: string[] = [];
  watchErrors(page, errors);
  if (init) await page.addInitScript(init);
  await page.goto(`${session.server.url}/index.html${query}`);
  await page.waitForFunction(() => (window as any).vlalab?.ready === true, null, { timeout: 120_000, polling: 100 });
  return { page, errors };
}

/** The policy pill's state (loading, ready, running, stopped, done, replay, error). */
export const policyState = (p: Page) => p.$eval('#st-policy', (el) => (el as HTMLElement).dataset.state);

/**
 * A stand-in for the Web Speech API (headless Chromium has no speech
 * service): each start() takes the next entry of window.__speech, a
 * recognised text (one interim result, then the final one) or an error code.
 */
export const FAKE_SPEECH = `
window.__speech = [];
class FakeRecognition {
  start() {
    const plan = window.__speech.shift() || { error: 'no-speech' };
    setTimeout(() => {
      if (plan.error) { this.onerror && this.onerror({ error: plan.error }); this.onend && this.onend(); return; }
      const res = (t, isFinal) => ({ resultIndex: 0, results: [Object.assign([{ transcript: t }], { isFinal })] });
      this.onresult && this.onresult(res(plan.text.slice(0, 6), false));
      setTimeout(() => { this.onresult && this.onresult(res(plan.text, true)); this.onend && this.onend(); }, 60);
    }, 60);
  }
  abort() { this.onend && this.onend(); }
}
window.SpeechRecognition = FakeRecognition;
window.webkitSpeechRecognition = FakeRecognition;
`;
