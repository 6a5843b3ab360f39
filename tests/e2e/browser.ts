/**
 * A real browser for the web UI tests: Debian's chromium at /usr/bin/chromium driven by
 * playwright-core (no browser download). The test setup installs chromium with apt when it is
 * missing (idempotent; CI runs as root on this kind of machine). Console errors are collected so a
 * test fails on any, except the HTTP error answers it expects (a 402 of a refused payment is shown
 * by Chromium as "Failed to load resource").
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from '../../tools/kafka/kafka.ts';
import { ensureDebianPackage } from '../../tools/system/debian-packages.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(REPO_ROOT, '.data/screenshots');

// Flags that work on these machines (headless, no sandbox as root, no background traffic). Playwright
// adds --headless and a new empty --user-data-dir of its own for every launch.
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Installs Debian's chromium when it is missing (see tools/system/debian-packages.ts). */
export function ensureChromium(): string {
  return ensureDebianPackage(CHROMIUM, 'chromium');
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = ensureChromium();
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return chromium.launch({ executablePath, headless: true, args: FLAGS });
}

/** An HTTP error answer the test provokes on purpose (method + URL pattern + status). */
export interface ExpectedHttpError {
  status: number;
  url: RegExp;
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and page errors so far, minus the expected HTTP errors. */
  errors: string[];
  /** Allows one more HTTP error answer (e.g. the 402 of a payment the test expects to be refused). */
  expectHttpError(e: ExpectedHttpError): void;
  screenshot(name: string): Promise<void>;
  /** A screenshot of one element only (small enough for the README). */
  screenshotOf(selector: string, name: string): Promise<void>;
}

/** A new browser context (own cookies and storage: one user) whose page records console errors. */
export async function watchedPage(browser: Browser, baseURL: string, viewport = { width: 1280, height: 900 }): Promise<WatchedPage> {
  const context = await browser.newContext({ baseURL, viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  const expected: ExpectedHttpError[] = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    const status = /status of (\d{3})/.exec(text)?.[1];
    const url = m.location().url;
    if (status !== undefined) {
      const i = expected.findIndex((e) => e.status === Number(status) && e.url.test(url));
      if (i >= 0) {
        expected.splice(i, 1);
        return;
      }
    }
    errors.push(`console.error: ${text} (${url})`);
  });
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
  return {
    page,
    context,
    errors,
    expectHttpError: (e) => expected.push(e),
    screenshot: async (name) => {
      await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
    },
    screenshotOf: async (selector, name) => {
      await page.locator(selector).first().screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
    },
  };
}
