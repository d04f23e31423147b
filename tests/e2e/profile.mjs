// V8 sampling profile of the multi-threaded CPU worker (not a test): embeds a sentence 200 times
// on the inspector tab, with Chromium's --js-flags=--prof, one log per isolate (the page, the
// model worker, each pool worker): isolate-<address>-<pid>-v8-<pid>.log.
// Usage (after trunk build --release): node tests/e2e/profile.mjs /tmp/prof
//          then: node --prof-process <log>   for each of the biggest logs
// Ticks of threads blocked in Atomics.wait show up under `syscall`; read the bottom-up profile.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { launch } from './browser.mjs';
import { serve } from './server.mjs';

const out = resolve(process.argv[2] ?? 'prof');
mkdirSync(out, { recursive: true });
const server = await serve(resolve(process.env.DIST ?? 'dist'));
const url = `http://127.0.0.1:${server.address().port}/`;
const { context, page } = await launch({ webgpu: false, flags: [`--js-flags=--prof --logfile=${out}/v8-%p.log`] });
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
