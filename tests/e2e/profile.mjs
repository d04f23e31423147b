// V8 sampling profile of the multi-threaded CPU worker (not a test): embeds a sentence 200 times
// on the inspector tab, with Chromium's --js-flags=--prof, one log per renderer process.
// Usage (after trunk build --release): node tests/e2e/profile.mjs /tmp/prof
//          then: node --prof-process /tmp/prof/v8-<pid>.log   (the biggest log is the page's)
// Ticks of threads blocked in Atomics.wait show up under `syscall`; read the bottom-up profile.
import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { serve } from './server.mjs';

const out = resolve(process.argv[2] ?? 'prof');
mkdirSync(out, { recursive: true });
const server = await serve(resolve(process.env.DIST ?? 'dist'));
const url = `http://127.0.0.1:${server.address().port}/`;
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'nuner-prof-')), {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--js-flags=--prof --logfile=${out}/v8-%p.log`],
});
const page = context.pages()[0] ?? (await context.newPage());
await page.goto(`${url}${process.env.NUNER_PROFILE_QUERY ?? '?backend=cpu&demo=0'}`);
await page.waitForSelector('[data-state=ready]', { timeout: 120_000 });
await page.click('#tab-inspect');
for (let i = 0; i < 200; i++) {
  await page.fill('#text', `Barack Obama met Angela Merkel in Berlin on Tuesday to discuss the Paris agreement ${i}.`);
  await page.click('#embed');
  await page.waitForFunction((n) => document.querySelector('#tokens')?.textContent.includes(String(n)), i, { timeout: 60_000 });
}
await context.close();
server.close();
console.log(`profiles in ${out}`);
