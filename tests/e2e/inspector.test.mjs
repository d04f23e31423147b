// The page loads the converted default model in its worker, shows the backend, and for typed
// text shows token norms equal to the native CLI's for the same sentence (1e-3).
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { serve } from './server.mjs';

const TEXT = 'Café Müller visited 東京 with 👍🏽 fans in 2015.';
const TARGET = process.env.CARGO_TARGET_DIR ?? 'target';

function nativeNorms() {
  const out = execFileSync(`${TARGET}/release/nuner`, ['embed', '--model', 'public/model', TEXT], { maxBuffer: 1 << 26 });
  const v = JSON.parse(out);
  return { tokens: v.tokens, offsets: v.offsets, norms: v.last_hidden_state.map((r) => Math.hypot(...r)) };
}

/**
 * Loads the page with `query`, checks the backend label, embeds TEXT in the inspector and compares
 * the norms with the native CLI's (f32): within 1e-3, or within `relative` of the native norm (the
 * 8-bit encoder, which must also differ from f32 by more than float noise).
 */
async function check({ page, url }, query, backendPattern, shot, relative = null) {
  await page.goto(url + query);
  await page.waitForSelector('[data-state=ready]', { timeout: 180_000 });
  const backend = await page.getAttribute('#backend', 'data-backend');
  assert.match(backend, backendPattern);
  await page.click('#tab-inspect');
  await page.fill('#text', TEXT);
  await page.click('#embed');
  await page.waitForSelector('#tokens', { timeout: 120_000 });
  const rows = await page.$$eval('#tokens tbody tr', (trs) => trs.map((tr) => ({
    token: tr.querySelector('.token').textContent,
    slice: tr.querySelector('.slice').textContent,
    norm: Number(tr.dataset.norm),
  })));
  const native = nativeNorms();
  assert.deepEqual(rows.map((r) => r.token), native.tokens);
  const chars = [...TEXT];
  native.offsets.forEach((o, i) => assert.equal(rows[i].slice, o ? chars.slice(o[0], o[1]).join('') : ''));
  const worst = Math.max(...rows.map((r, i) => Math.abs(r.norm - native.norms[i])));
  const worstRelative = Math.max(...rows.map((r, i) => Math.abs(r.norm - native.norms[i]) / native.norms[i]));
  if (relative === null) {
    assert.ok(worst <= 1e-3, `norms differ from native by ${worst}`);
  } else {
    assert.ok(worstRelative <= relative, `norms differ from native f32 by ${worstRelative} of the norm`);
    assert.ok(worst > 1e-3, `the 8-bit encoder gave f32's norms (worst difference ${worst})`);
  }
  if (shot) await page.screenshot({ path: `docs/screenshots/${shot}.png`, fullPage: true });
  console.log(`     ${backend}: ${rows.length} tokens, worst norm difference ${worst.toExponential(2)} ` +
    `(${(100 * worstRelative).toFixed(2)}% of the norm)`);
}

export const tests = [
  { name: 'inspector on WebGPU matches the native norms', webgpu: true,
    run: (ctx) => check(ctx, '?demo=0', /WebGPU/, 'inspector-webgpu') },
  // The test server sends COOP/COEP (as Trunk's does), so without an adapter the page starts the
  // multi-threaded CPU worker; `threads=1` asks for the one-thread build a page without
  // cross-origin isolation gets.
  { name: 'inspector falls back to the multi-threaded CPU worker without an adapter', webgpu: false,
    run: (ctx) => check(ctx, '?demo=0', /^CPU \(flex, wasm, \d+ threads\)$/, 'inspector-cpu') },
  { name: 'inspector on the one-thread CPU worker matches the native norms', webgpu: false,
    run: (ctx) => check(ctx, '?demo=0&threads=1', /^CPU \(flex, wasm\)$/, null) },
  // The 8-bit encoder (`?precision=int8`): its own kernel in each build (relaxed SIMD's dot product
  // in the multi-threaded one, `i32x4.dot_i16x8_s` in the one-thread one), against native f32.
  // Measured: 5.6% at worst on TEXT (7-bit weights; natively rten-gemm's VNNI kernel, 8-bit
  // weights, gives 2.5%); both builds compute the same integer sums, hence the same norms.
  { name: 'the 8-bit encoder on the multi-threaded CPU worker is within 8% of the f32 norms', webgpu: false,
    run: (ctx) => check(ctx, '?demo=0&precision=int8', /^CPU \(flex, wasm, \d+ threads, int8\)$/, null, 0.08) },
  { name: 'the 8-bit encoder on the one-thread CPU worker is within 8% of the f32 norms', webgpu: false,
    run: (ctx) => check(ctx, '?demo=0&threads=1&precision=int8', /^CPU \(flex, wasm, int8\)$/, null, 0.08) },
  // A deployment whose multi-threaded build is broken (its wasm is gone, so the module fails to
  // instantiate): the loader reports it and the page restarts on the one-thread worker.
  { name: 'a multi-threaded worker that fails to start falls back to the one-thread worker', webgpu: false,
    run: async (ctx) => {
      const warning = await fallback(ctx, { missing: ['threads/worker_bg.wasm'] });
      // Reported by the loader, not found by the 20 s timeout.
      assert.ok(warning, `no fallback warning in:\n${ctx.logs.join('\n')}`);
      assert.ok(!warning.includes('no answer in'), `the failure was not reported by the loader: ${warning}`);
    } },
  // A threads build whose wasm download hangs: no failure to report, so after 20 s without news
  // the page tells the loader to stop and restarts on the one-thread worker.
  { name: 'a multi-threaded worker that hangs is given up after 20 s', webgpu: false,
    run: async (ctx) => {
      const warning = await fallback(ctx, { stall: ['threads/worker_bg.wasm'] });
      assert.ok(warning?.includes('no answer in 20 s'), `no timeout warning in:\n${ctx.logs.join('\n')}`);
    } },
  // A GPU process that never answers: `requestAdapter()` is replaced by a promise that never
  // settles. After 2 s the page goes on without WebGPU and starts the multi-threaded CPU worker.
  { name: 'a WebGPU probe that never answers is given up after 2 s', webgpu: false,
    run: async (ctx) => {
      await ctx.page.addInitScript(() => {
        Object.defineProperty(Navigator.prototype, 'gpu', {
          configurable: true,
          get: () => ({ requestAdapter: () => new Promise(() => {}) }),
        });
      });
      const t0 = Date.now();
      await check(ctx, '?demo=0', /^CPU \(flex, wasm, \d+ threads\)$/, null);
      assert.ok(ctx.logs.some((l) => l.includes('no WebGPU adapter within 2000 ms')),
        `no probe timeout warning in:\n${ctx.logs.join('\n')}`);
      console.log(`     ready on the CPU ${((Date.now() - t0) / 1e3).toFixed(1)} s after the page was opened`);
    } },
  // A browser without relaxed SIMD (which the multi-threaded build's kernels use) cannot compile
  // that build: the page sees it beforehand and starts the one-thread worker, without a failure.
  { name: 'a browser without relaxed SIMD gets the one-thread worker', webgpu: false,
    run: async (ctx) => {
      await ctx.page.addInitScript(() => { WebAssembly.validate = () => false; });
      await check(ctx, '?demo=0', /^CPU \(flex, wasm\)$/, null);
      assert.ok(ctx.logs.some((l) => l.includes('no relaxed SIMD')), `no relaxed SIMD warning in:\n${ctx.logs.join('\n')}`);
      assert.ok(!ctx.logs.some((l) => l.includes('did not start')), 'the threaded worker was started and failed');
    } },
];

/** Serves dist/ with the test server's `options` (missing or stalled files), checks that the page
 *  ends up on the one-thread CPU worker with the native norms, and returns its fallback warning. */
async function fallback(ctx, options) {
  const server = await serve(resolve(process.env.DIST ?? 'dist'), options);
  try {
    await check({ ...ctx, url: `http://127.0.0.1:${server.address().port}/` }, '?demo=0', /^CPU \(flex, wasm\)$/, null);
    return ctx.logs.find((l) => l.includes('did not start'));
  } finally {
    server.closeAllConnections();
    server.close();
  }
}
