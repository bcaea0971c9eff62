// Helpers for the browser scenario (scenario.mjs): the environment browser.sh
// sets, steps with timing and a screenshot on failure, a browser context per
// caseworker, the login, and the nodes' JSON API with a bearer token for
// checks of state that the pages would show only weakly.

import { chromium } from 'playwright-core';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';

const run = promisify(execFile);

// ---- Environment -------------------------------------------------------------------

export function env(name) {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is not set; run this through tests/browser/browser.sh BUILD_DIR`);
  }
  return value;
}

// A town as browser.sh set it up: its node's URL, its API token, its web users.
export function town(key, name) {
  const upper = key.toUpperCase();
  return {
    key,
    name,
    url: env(`BR_${upper}_URL`),
    token: env(`BR_${upper}_TOKEN`),
    user: env(`BR_${upper}_USER`),
    password: env(`BR_${upper}_PASSWORD`),
  };
}

// ---- Timeouts ----------------------------------------------------------------------

export const ACTION_TIMEOUT_MS = 15000; // one click, fill or expected text
export const NAVIGATION_TIMEOUT_MS = 30000; // a page load
export const DELIVERY_TIMEOUT_MS = 60000; // a message from one town to another
export const POLL_MS = 250;
const NETWORK_LOG = 30; // requests per page kept for a failure report

// ---- Steps ---------------------------------------------------------------------------

const t0 = Date.now();
const seconds = () => ((Date.now() - t0) / 1000).toFixed(1);
let checks = 0;
const pages = new Set(); // every page opened, for a screenshot when a step fails
const pageErrors = []; // uncaught exceptions in the pages

export function log(text) {
  process.stderr.write(`[scenario ${seconds()}s] ${text}\n`);
}

// ok(condition, what): one check; throws with `what` if it does not hold.
export function ok(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
  checks += 1;
  log(`ok: ${what}`);
}

export function eq(expected, actual, what) {
  if (JSON.stringify(expected) !== JSON.stringify(actual)) {
    throw new Error(`check failed: ${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
  checks += 1;
  log(`ok: ${what} = ${JSON.stringify(expected)}`);
}

let stepCount = 0;

// step(name, fn): runs one part of the scenario; on failure saves a
// screenshot of every open page as failure-<n>-<page>.png and rethrows.
export async function step(name, fn) {
  stepCount += 1;
  const number = stepCount;
  const start = Date.now();
  log(`---- ${number}. ${name}`);
  try {
    await fn();
  } catch (error) {
    log(`FAILED in step ${number} (${name}): ${error && error.stack ? error.stack : error}`);
    let index = 0;
    for (const page of pages) {
      index += 1;
      if (page.isClosed()) continue;
      if (page.bruecke) {
        log(`last requests of page ${index} (${page.bruecke.label}):\n    ${page.bruecke.network.join('\n    ')}`);
      }
      const file = path.join(env('BR_SCREENSHOTS'), `failure-${number}-${index}.png`);
      try {
        await page.screenshot({ path: file, fullPage: true, timeout: 5000 });
        log(`screenshot of page ${index} (${page.url()}) at the failure: ${file}`);
      } catch {
        // the page may be gone
      }
    }
    throw error;
  }
  log(`     ${number}. done in ${((Date.now() - start) / 1000).toFixed(1)} s`);
}

export function summary() {
  return `${checks} checks in ${seconds()} s`;
}

export function uncaughtPageErrors() {
  return pageErrors;
}

// ---- Browser -------------------------------------------------------------------------

export async function launch() {
  const headed = process.env.BROWSER_HEADED === '1';
  const slowMo = Number(process.env.BROWSER_SLOWMO || 0);
  return chromium.launch({
    executablePath: env('BR_CHROMIUM'),
    headless: !headed,
    slowMo,
    timeout: NAVIGATION_TIMEOUT_MS,
    // No GPU in CI; /dev/shm may be small in containers
    args: ['--disable-gpu', '--disable-dev-shm-usage'],
  });
}

// A caseworker's own browser (cookies apart from everyone else's), on a
// fixed viewport, in German and Berlin time, with one page. Downloads are
// kept until the context closes (the signed consent form).
export async function openDesk(browser, townInfo, label) {
  const context = await browser.newContext({
    baseURL: townInfo.url,
    viewport: { width: 1280, height: 900 },
    locale: 'de-DE',
    timezoneId: 'Europe/Berlin',
    acceptDownloads: true,
  });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT_MS);
  const page = await context.newPage();
  pages.add(page);
  // The page's last requests, shown when a step fails
  const network = [];
  page.bruecke = { label, network };
  const note = (text) => {
    network.push(`${seconds()}s ${text}`);
    if (network.length > NETWORK_LOG) network.shift();
  };
  const short = (url) => url.replace(townInfo.url, '');
  page.on('request', (r) => note(`-> ${r.method()} ${short(r.url())}`));
  page.on('requestfinished', async (r) => {
    const response = await r.response().catch(() => null);
    note(`<- ${r.method()} ${short(r.url())} ${response ? response.status() : '?'}`);
  });
  page.on('requestfailed', (r) => note(`<- ${r.method()} ${short(r.url())} failed: ${r.failure() && r.failure().errorText}`));
  page.on('pageerror', (error) => {
    pageErrors.push(`${label}: ${error.message}`);
    log(`page error (${label}): ${error.message}`);
  });
  page.on('console', (message) => {
    // Refusals the scenario provokes show as "Failed to load resource"; the
    // scenario checks them itself
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      log(`console error (${label}): ${message.text()}`);
    }
  });
  return { context, page, town: townInfo, label };
}

// screenshot(page, name[, part]): the whole page, or only the element
// `part` (a locator) of a long one.
export async function screenshot(page, name, part) {
  const file = path.join(env('BR_SCREENSHOTS'), `${name}.png`);
  if (part) await part.screenshot({ path: file });
  else await page.screenshot({ path: file, fullPage: true });
  log(`screenshot ${name}.png`);
}

// ---- The nodes' JSON API (bearer token), for checks of state ---------------------------

export async function api(townInfo, method, apiPath, body) {
  const init = {
    method,
    headers: { Authorization: `Bearer ${townInfo.token}`, Accept: 'application/json' },
  };
  if (method === 'POST' || method === 'PATCH') {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body === undefined ? {} : body);
  }
  const response = await fetch(townInfo.url + apiPath, init);
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(`${townInfo.key} ${method} ${apiPath}: HTTP ${response.status} ${JSON.stringify(data)}`);
  }
  return data;
}

// waitFor(what, fn, timeoutMs): calls fn until it returns something truthy;
// returns that. For state that travels between towns.
export async function waitFor(what, fn, timeoutMs = DELIVERY_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) {
        log(`reached: ${what}`);
        return value;
      }
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting until ${what}${last ? ` (last error: ${last.message})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

// ---- The county's tools --------------------------------------------------------------

// The county's matching for this quarter, as the coordination office runs it.
export async function runMatching() {
  const { stdout } = await run(env('BR_BRUECKE'),
    ['broker', 'match', '--state', env('BR_BROKER_STATE'), '--quarter', env('BR_QUARTER')],
    { timeout: 60000 });
  return stdout;
}
