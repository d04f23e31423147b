// In-browser figures for docs/BENCHMARKS.md: page load to first highlight (first visit: demo
// training included), encoder throughput (32 x 128), one-sentence latency, head training
// (50 sentences x 30 epochs), on WebGPU (SwiftShader) and on the CPU fallback.
// Usage: node tests/e2e/bench.mjs > docs/benchmarks/browser.json   (after trunk build --release)
import { serve } from './server.mjs';
import { launch } from './browser.mjs';
import { resolve } from 'node:path';
import assert from 'node:assert/strict';

const server = await serve(resolve(process.env.DIST ?? 'dist'));
const url = `http://127.0.0.1:${server.address().port}/`;
const results = [];
// cpu: the multi-threaded CPU worker (all cores); cpu1: the one-thread CPU worker (what a page
// without cross-origin isolation gets). NUNER_BENCH_BACKENDS=cpu,cpu1 skips WebGPU (SwiftShader
// takes many minutes per figure here).
const wanted = (process.env.NUNER_BENCH_BACKENDS ?? 'cpu,cpu1,webgpu').split(',');
// cpu4 (not in the default list): a pool of 4 threads, more than this machine's 2 cores.
const runs = [['cpu', '?backend=cpu', false], ['cpu1', '?backend=cpu&threads=1', false],
  ['cpu4', '?backend=cpu&threads=4', false], ['webgpu', '?backend=webgpu', true],
  // 8-bit linear layers (not in the default list): NUNER_BENCH_BACKENDS=cpu,cpu-int8,cpu1,cpu1-int8.
  ['cpu-int8', '?backend=cpu&precision=int8', false], ['cpu1-int8', '?backend=cpu&threads=1&precision=int8', false]];
for (const [name, query, webgpu] of runs.filter(([b]) => wanted.includes(b))) {
  const { context, page } = await launch({ webgpu });
  try {
    const t0 = Date.now();
    await page.goto(`${url}${query}`);
    await page.waitForSelector('#highlighted mark', { timeout: 900_000 });
    const firstHighlight = (Date.now() - t0) / 1e3;
    await page.click('#tab-model');
    await page.click('#bench');
    await page.waitForSelector('#bench-result', { timeout: 1_800_000 });
    const b = JSON.parse(await page.getAttribute('#bench-result', 'data-json'));
    results.push({ ...b, page_load_to_first_highlight_s: firstHighlight });
    if (name.startsWith('cpu')) assert.match(b.backend, name.startsWith('cpu1') ? /^CPU \(flex, wasm(, int8)?\)$/ : /threads/);
    assert.equal(/int8/.test(b.backend), name.endsWith('-int8'), `backend ${b.backend} for ${name}`);
    console.error(JSON.stringify(results[results.length - 1]));
  } finally {
    await context.close();
  }
}
server.close();
console.log(JSON.stringify(results, null, 1));
