// Headless browsers for the package and end-to-end tests (never a downloaded browser):
//   - Chromium (default): Debian's /usr/bin/chromium through playwright-core.
//   - Firefox (STEADYSOCKET_BROWSER=firefox): Debian's firefox-esr through puppeteer-core over WebDriver
//     BiDi (Playwright's Firefox needs its own patched build, so it cannot drive the stock
//     one). `launch()` returns the same shape for both: `newPage()` gives an object with the
//     part of the Playwright page API the tests in tests/js use (`on('console' | 'pageerror')`,
//     `exposeFunction`, `goto`, `waitForFunction(fn, arg, { timeout })`, `evaluate(fn, arg)`,
//     `close`). The e2e tests use much more of Playwright and run in Chromium only.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const FIREFOX = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';

/** The browser `launch()` starts: 'chromium' (default) or 'firefox', from $STEADYSOCKET_BROWSER. */
export const BROWSER = (() => {
  const b = (process.env.STEADYSOCKET_BROWSER || 'chromium').toLowerCase();
  if (b === 'chromium' || b === 'chrome') return 'chromium';
  if (b === 'firefox') return 'firefox';
  throw new Error(`STEADYSOCKET_BROWSER must be chromium or firefox, not '${process.env.STEADYSOCKET_BROWSER}'`);
})();

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

// The Firefox counterparts of the Chromium flags above (puppeteer adds its automation prefs).
const FIREFOX_PREFS = {
  'network.http.http3.enable': false,
  'app.update.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  'browser.safebrowsing.update.enabled': false,
  'extensions.update.enabled': false,
};

/** Launches the browser named by $STEADYSOCKET_BROWSER with a fresh profile; `close()` removes it too. */
export async function launch() {
  return BROWSER === 'firefox' ? launchFirefox() : launchChromium();
}

async function launchChromium() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'steadysocket-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
  });
  return {
    name: 'chromium',
    context,
    async newPage() {
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error('[page error]', e.message));
      return page;
    },
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Puppeteer names console.warn 'warn', Playwright 'warning' (tests match on the latter).
const CONSOLE_TYPE = { warn: 'warning' };

async function launchFirefox() {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: FIREFOX,
    headless: true,
    extraPrefsFirefox: FIREFOX_PREFS,
  });
  return {
    name: 'firefox',
    puppeteer: browser,
    async newPage() {
      const p = await browser.newPage();
      p.on('pageerror', (e) => console.error('[page error]', e.message));
      return firefoxPage(p);
    },
    async close() {
      // puppeteer created the profile in the temp dir and removes it here.
      await browser.close().catch(() => {});
    },
  };
}

/** A puppeteer (BiDi) page behind the Playwright calls tests/js makes. */
function firefoxPage(p) {
  const page = {
    puppeteer: p,
    on(event, fn) {
      if (event === 'console') {
        p.on('console', (m) => fn({ type: () => CONSOLE_TYPE[m.type()] ?? m.type(), text: () => m.text() }));
      } else if (event === 'pageerror') {
        p.on('pageerror', (e) => fn(e instanceof Error ? e : new Error(String(e))));
      } else {
        throw new Error(`page.on('${event}') is not adapted for Firefox (tests/support/browser.mjs)`);
      }
      return page;
    },
    exposeFunction: (name, fn) => p.exposeFunction(name, fn),
    goto: (url, options) => p.goto(url, options),
    // Playwright: (fn, arg, { timeout, polling }); puppeteer: (fn, { timeout, polling }, ...args).
    waitForFunction: (fn, arg, { timeout = 30_000, polling = 'raf' } = {}) =>
      p.waitForFunction(fn, { timeout, polling }, arg),
    evaluate: (fn, arg) => p.evaluate(fn, arg),
    close: () => p.close(),
    context() {
      return {
        newCDPSession() {
          throw new Error('CDP sessions exist in Chromium only');
        },
      };
    },
  };
  return page;
}

/** Where tests save screenshots (not committed). */
export const ARTIFACTS = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../test-artifacts');
