// Browser tests, run by scripts/test.sh after `trunk build --release`. Each test file exports
// `tests`: [{ name, webgpu, run({ page, url, logs }) }]; every test runs in a fresh browser.
import { serve } from './server.mjs';
import { launch } from './browser.mjs';
import { resolve } from 'node:path';

const files = (process.env.NUNER_E2E ?? './inspector.test.mjs,./app.test.mjs,./tune.test.mjs').split(',');
const root = resolve(process.env.DIST ?? 'dist');
// NUNER_E2E_ONLY=<text>: only the tests whose name contains it.
const only = process.env.NUNER_E2E_ONLY;
const server = await serve(root);
const url = `http://127.0.0.1:${server.address().port}/`;
let failed = 0;
for (const file of files) {
  const { tests } = await import(file);
  for (const t of tests) {
    if (only && !t.name.includes(only)) continue;
    const started = Date.now();
    const { context, page, logs } = await launch({ webgpu: t.webgpu });
    try {
      await t.run({ page, url, logs, context });
      console.log(`ok   ${t.name} (${((Date.now() - started) / 1e3).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${t.name}: ${e.stack ?? e}\n  browser console:\n    ${logs.join('\n    ')}`);
    } finally {
      await context.close();
    }
  }
}
server.close();
if (failed) {
  console.log(`${failed} browser test(s) failed`);
  process.exit(1);
}
