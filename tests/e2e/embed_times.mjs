// Times single-sentence embeds in the inspector tab on WebGPU (SwiftShader in headless Chromium),
// one after another, with the first token norms so that two builds can be compared:
//   DIST=dist node tests/e2e/embed_times.mjs      (after trunk build --release)
// Figures: docs/BENCHMARKS.md, "WebGPU on software adapters: a register-tiled matmul (stop 16)".
import { serve } from './server.mjs';
import { launch } from './browser.mjs';
import { resolve } from 'node:path';
const server = await serve(resolve(process.env.DIST ?? 'dist'));
const url = `http://127.0.0.1:${server.address().port}/`;
const { context, page } = await launch({ webgpu: true });
const t0 = Date.now();
await page.goto(url + '?demo=0&backend=webgpu');
await page.waitForSelector('[data-state=ready]', { timeout: 600_000 });
console.log('ready', (Date.now() - t0) / 1e3, await page.getAttribute('#backend', 'data-backend'));
await page.click('#tab-inspect');
const texts = ['EU rejects German call to boycott British lamb', 'Peter Blackburn visited the European Commission in Brussels on Thursday with his team', 'EU rejects German call to boycott British beef'];
for (const t of texts) {
  const last = t.split(' ').pop();
  await page.fill('#text', t);
  const t1 = Date.now();
  await page.click('#embed');
  await page.waitForFunction((w) => [...document.querySelectorAll('#tokens tbody tr .slice')].some((s) => s.textContent === w), last, { timeout: 600_000 });
  const norms = await page.$$eval('#tokens tbody tr', (trs) => trs.map((tr) => Number(tr.dataset.norm)).slice(1, 4));
  console.log('embed', ((Date.now() - t1) / 1e3).toFixed(2), 's', t.split(' ').length, 'words', norms.map((x) => x.toFixed(4)).join(' '));
}
await context.close();
server.close();
