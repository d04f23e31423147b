// The transformers.js reference of docs/BENCHMARKS.md, in the same headless Chromium as
// tests/e2e/bench.mjs: transformers.js 3.8.1 (onnxruntime-web) runs all-MiniLM-L6-v2 exported to
// ONNX (scripts/export_onnx.py) on one and two wasm threads, f32 and with int8 weights, timed as the app's bench (tests/e2e/transformersjs/bench.js). Not a test.
// Usage: scripts/bench_transformersjs.sh, which installs transformers.js and exports the model
//        into $NUNER_TJS (default ~/.cache/nuner-transformersjs) first.
import { mkdtempSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launch } from './browser.mjs';
import { serve } from './server.mjs';

const tjs = resolve(process.env.NUNER_TJS ?? join(homedir(), '.cache/nuner-transformersjs'));
const here = resolve(import.meta.dirname, 'transformersjs');
const root = mkdtempSync(join(tmpdir(), 'nuner-tjs-site-'));
for (const [name, target] of [['index.html', join(here, 'index.html')], ['bench.js', join(here, 'bench.js')],
  ['tjs', join(tjs, 'node_modules/@huggingface/transformers/dist')], ['models', join(tjs, 'models')]]) {
  symlinkSync(target, join(root, name));
}
const server = await serve(root);
const url = `http://127.0.0.1:${server.address().port}/`;
const runs = (process.env.NUNER_TJS_RUNS ?? '1:fp32,2:fp32,1:q8,2:q8').split(',');
const results = [];
for (const run of runs) {
  const [threads, dtype] = run.split(':');
  const { context, page, logs } = await launch({ webgpu: false });
  try {
    await page.goto(`${url}?threads=${threads}&dtype=${dtype}`);
    await page.waitForFunction(() => document.body.dataset.result || document.body.dataset.error, null, { timeout: 1_800_000 });
    const error = await page.evaluate(() => document.body.dataset.error);
    if (error) throw new Error(`${run}: ${error}\n${logs.join('\n')}`);
    const r = JSON.parse(await page.evaluate(() => document.body.dataset.result));
    results.push(r);
    console.error(JSON.stringify(r));
  } finally {
    await context.close();
  }
}
server.close();
console.log(JSON.stringify(results, null, 1));
