// A small end-to-end harness: a real host (services + server) on a temp
// BOXWOOD_HOME, Debian's Chromium driven by Playwright, named steps that each pass
// or fail, a screenshot per step in artifacts/e2e, and the closing counts line.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalHost, type LocalHost } from '../../electron/node/local-host';
import { buildRenderer } from '../../scripts/build';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_GUESTS = path.resolve(ROOT, '../shared/guests');
export const ARTIFACTS = path.join(ROOT, 'artifacts', 'e2e');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export interface E2eContext {
  host: LocalHost;
  home: string;
  browser: Browser;
  /** One browser session (one cookie jar): pages opened in it act like windows of the same app. */
  context: BrowserContext;
  page: Page;
}

export async function withE2e(run: (ctx: E2eContext, step: (name: string, fn: () => Promise<void>) => Promise<void>) => Promise<void>): Promise<never> {
  if (!existsSync(CHROMIUM)) {
    console.log(`e2e: chromium not found at ${CHROMIUM} (install Debian's chromium package)`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  // Always test the UI as it is in this tree, never a stale build.
  await buildRenderer();
  const home = mkdtempSync(path.join(os.tmpdir(), 'bw-e2e-'));
  const host = await startLocalHost({ home, kind: 'serve' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  let passed = 0;
  let failed = 0;
  let n = 0;
  const suite = path.basename(process.argv[1] ?? 'e2e').replace(/\.e2e\.ts$|\.ts$/, '');
  const step = async (name: string, fn: () => Promise<void>) => {
    const started = Date.now();
    // Prefixed with the test file's name: several e2e files run side by side into one folder.
    const shot = path.join(ARTIFACTS, `${suite}-${String(++n).padStart(2, '0')}-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`);
    try {
      await fn();
      passed++;
      console.log(`PASS ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${name}: ${(e as Error).message.split('\n').slice(0, 6).join('\n     ')}`);
    }
    // Every window of the session, so a failure shows what each screen looked like.
    const pages = context.pages();
    for (let i = 0; i < pages.length; i++) await pages[i].screenshot({ path: i === 0 ? shot : shot.replace(/\.png$/, `-window${i + 1}.png`) }).catch(() => {});
  };
  try {
    await run({ host, home, browser, context, page }, step);
  } catch (e) {
    failed++;
    console.log(`FAIL harness: ${(e as Error).stack}`);
  } finally {
    await browser.close().catch(() => {});
    await host.stop();
    rmSync(home, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}
