// The app as users meet it: first visit (demo), labelling CoNLL-2003 by mouse and keys,
// training in the worker, predicting held-out sentences, persistence, export/import, XSS.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kShot, readConll, sharedData, spanF1 } from './conll.mjs';
import { addDocs, addType, docSpans, highlight, labelByMouse, ready, tab, train } from './ui.mjs';
import { launch } from './browser.mjs';

const TARGET = process.env.CARGO_TARGET_DIR ?? 'target';
const TYPES = ['PER', 'LOC', 'ORG', 'MISC'];
const K = 8;
const TEST_SENTENCES = Number(process.env.NUNER_E2E_TEST_SENTENCES ?? 200);
// SwiftShader (headless Chromium's software WebGPU) runs the kernels on the CPU, slowly
// (docs/BENCHMARKS.md, "WebGPU on software adapters"): on this 2-core machine the 200 sentences
// take ~200 s to predict (stop 19; 25 took ~40 s) and training ~150 s (the head's 300 epochs,
// most of it). NUNER_E2E_TEST_SENTENCES_WEBGPU=25 scores a shorter sample for quick runs.
const TEST_SENTENCES_WEBGPU = Number(process.env.NUNER_E2E_TEST_SENTENCES_WEBGPU ?? TEST_SENTENCES);

async function shot(page, name) {
  await page.screenshot({ path: `docs/screenshots/${name}.png`, fullPage: true });
}

/** Entity F1 of the same sample trained and scored natively (the floor's reference). */
function nativeF1(trainSet, testSet) {
  const dir = mkdtempSync(join(tmpdir(), 'nuner-native-'));
  const jsonl = (xs) => xs.map((x) => JSON.stringify({ text: x.text, spans: x.spans })).join('\n') + '\n';
  writeFileSync(join(dir, 'train.jsonl'), jsonl(trainSet));
  writeFileSync(join(dir, 'test.jsonl'), jsonl(testSet));
  const nuner = `${TARGET}/release/nuner`;
  execFileSync(nuner, ['finetune', '--model', 'public/model', '--train', join(dir, 'train.jsonl'), '--epochs', '300',
    '--lr', '0.2', '--no-cache', '--out', join(dir, 'head.json')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const out = execFileSync(nuner, ['eval', '--model', 'public/model', '--head', join(dir, 'head.json'), '--test',
    join(dir, 'test.jsonl'), '--no-cache'], { maxBuffer: 1 << 26 }).toString().trim().split('\n');
  return JSON.parse(out[out.length - 1]).entity_micro_f1;
}

async function conllFlow({ page, url, logs }, backend, screenshots, sentences, extra = '') {
  const data = sharedData();
  if (!data) {
    console.log('     SKIP: ../shared/data not found');
    return;
  }
  const trainSet = kShot(readConll(join(data, 'conll2003/eng.train')), K, 7);
  const testSet = readConll(join(data, 'conll2003/eng.testb')).slice(0, sentences);
  await ready(page, url, `?demo=0&backend=${backend}${extra}`);
  await addDocs(page, trainSet.map((x) => x.text));
  for (const t of TYPES) await addType(page, t);
  // Label every gold span with a real mouse selection and a key press.
  const docIds = await page.$$eval('#docs li.doc', (ls) => ls.map((l) => l.dataset.id));
  assert.equal(docIds.length, trainSet.length);
  for (let i = 0; i < trainSet.length; i++) {
    await page.click(`#docs li[data-id="${docIds[i]}"]`);
    for (const sp of trainSet[i].spans) {
      await labelByMouse(page, sp.start, sp.end, String(TYPES.indexOf(sp.label) + 1));
    }
    assert.deepEqual(await docSpans(page), trainSet[i].spans, `labels of document ${i}`);
  }
  if (screenshots) await shot(page, 'annotate');
  await tab(page, 'model');
  const device = await page.textContent('#model-backend');
  if (extra.includes('precision=int8')) assert.match(device, /int8/, `the 8-bit encoder is not on: ${device}`);
  const t0 = Date.now();
  await train(page);
  const trainSeconds = (Date.now() - t0) / 1e3;
  if (screenshots) await shot(page, 'train');
  // The exported head says which precision its features had (`nuner predict` warns on a mismatch).
  const head = JSON.parse(await download(page, '#export-head'));
  assert.equal(head.encoder.int8, extra.includes('precision=int8'), 'the head records the features\' precision');
  const t1 = Date.now();
  const pred = await highlight(page, testSet.map((x) => x.text));
  const predictSeconds = (Date.now() - t1) / 1e3;
  if (screenshots) await shot(page, 'highlight-conll');
  const f1 = spanF1(testSet.map((x) => x.spans), pred);
  const native = nativeF1(trainSet, testSet);
  const floor = native - 0.05;
  console.log(`     ${device}: ${trainSet.length} sentences labelled, trained in ${trainSeconds.toFixed(1)} s, ` +
    `${testSet.length} test sentences predicted in ${predictSeconds.toFixed(1)} s; entity F1 ${f1.toFixed(3)} ` +
    `(native ${native.toFixed(3)}, floor ${floor.toFixed(3)})`);
  assert.ok(f1 >= floor, `browser F1 ${f1} below the floor ${floor}`);

  // Everything survives a reload.
  await tab(page, 'annotate');
  const before = await page.evaluate(() => [...document.querySelectorAll('#docs li.doc')].map((l) => l.dataset.status));
  await ready(page, url, `?demo=0&backend=${backend}${extra}`);
  await tab(page, 'annotate');
  const after = await page.evaluate(() => [...document.querySelectorAll('#docs li.doc')].map((l) => l.dataset.status));
  assert.equal(before.length, trainSet.length);
  assert.deepEqual(after, before);
  for (let i = 0; i < trainSet.length; i++) {
    await page.click(`#docs li[data-id="${docIds[i]}"]`);
    assert.deepEqual(await docSpans(page), trainSet[i].spans, `document ${i} after reload`);
  }
  await page.waitForSelector('#head-status');
  return { logs };
}

async function download(page, button) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return readFileSync(await dl.path(), 'utf8');
}

export const tests = [
  { name: 'first visit: the demo trains in the browser and highlights text (CPU)', webgpu: false,
    async run({ page, url }) {
      await ready(page, url, '?backend=cpu');
      await page.waitForSelector('#highlighted mark', { timeout: 300_000 });
      const labels = await page.$$eval('#highlighted mark', (ms) => ms.map((m) => m.dataset.label));
      assert.ok(labels.includes('person') && labels.includes('location'), `labels ${labels}`);
      await shot(page, 'highlight');
      await tab(page, 'annotate');
      await page.click('#docs li.doc');
      await shot(page, 'annotate-demo');
      await tab(page, 'inspect');
      await shot(page, 'inspect');
      await tab(page, 'model');
      await shot(page, 'model');
    } },
  { name: 'CoNLL-2003 labelled by mouse, trained and scored in the browser (CPU fallback)', webgpu: false,
    run: (ctx) => conllFlow(ctx, 'cpu', true, TEST_SENTENCES) },
  { name: 'CoNLL-2003 labelled by mouse, trained and scored in the browser (CPU fallback, 8-bit encoder)', webgpu: false,
    run: (ctx) => conllFlow(ctx, 'cpu', false, TEST_SENTENCES, '&precision=int8') },
  { name: 'CoNLL-2003 labelled by mouse, trained and scored in the browser (WebGPU)', webgpu: true,
    run: (ctx) => conllFlow(ctx, 'webgpu', false, TEST_SENTENCES_WEBGPU) },
  { name: 'the Model tab switches the CPU encoder to 8 bits and back, keeping the other query parameters', webgpu: false,
    async run({ page, url }) {
      await ready(page, url, '?demo=0&backend=cpu');
      const backend = async () => { await tab(page, 'model'); return page.textContent('#model-backend'); };
      assert.doesNotMatch(await backend(), /int8/);
      for (const want of [true, false]) {
        await page.click('#precision');
        await page.waitForURL(want ? /precision=int8/ : /precision=f32/);
        await page.waitForSelector('[data-state=ready]', { timeout: 180_000 });
        const search = new URLSearchParams(new URL(page.url()).search);
        assert.equal(search.get('precision'), want ? 'int8' : 'f32');
        assert.equal(search.get('demo'), '0');
        assert.equal(search.get('backend'), 'cpu');
        const label = await backend();
        assert.equal(/int8/.test(label), want, `backend ${label} after switching to ${want ? 'int8' : 'f32'}`);
      }
    } },
  { name: 'export, re-import and export again are byte-identical; a bad import changes nothing', webgpu: false,
    async run({ page, url }) {
      await ready(page, url, '?backend=cpu');
      await tab(page, 'annotate');
      await page.waitForSelector('#docs li.doc');
      const first = await download(page, '#export-jsonl');
      assert.ok(first.split('\n').length > 20);
      const count = await page.$$eval('#docs li.doc', (l) => l.length);
      // A malformed file: nothing is added, the message names the line.
      const bad = join(mkdtempSync(join(tmpdir(), 'nuner-bad-')), 'bad.jsonl');
      writeFileSync(bad, '{"text": "ok", "spans": []}\n{"text": "ab", "spans": [{"start": 0, "end": 7, "label": "X"}]}\n');
      await page.setInputFiles('#import', bad);
      await page.waitForSelector('#doc-message');
      assert.match(await page.textContent('#doc-message'), /bad\.jsonl:2/);
      assert.equal(await page.$$eval('#docs li.doc', (l) => l.length), count);
      // Re-import the export into a fresh browser profile (empty workspace) and export again.
      const other = await launch({ webgpu: false });
      try {
        const fresh = other.page;
        await ready(fresh, url, '?backend=cpu&demo=0');
        await tab(fresh, 'annotate');
        const file = join(mkdtempSync(join(tmpdir(), 'nuner-exp-')), 'labels.jsonl');
        writeFileSync(file, first);
        await fresh.setInputFiles('#import', file);
        await fresh.waitForSelector('#doc-message');
        const second = await download(fresh, '#export-jsonl');
        assert.equal(second, first);
      } finally {
        await other.context.close();
      }
    } },
  { name: 'imported markup is shown as text and never runs', webgpu: false,
    async run({ page, url }) {
      await ready(page, url, '?backend=cpu&demo=0');
      await tab(page, 'annotate');
      const file = join(mkdtempSync(join(tmpdir(), 'nuner-xss-')), 'evil.txt');
      const lines = ['<img src=x onerror="window.__xss=1">', '<script>window.__xss=2</script> and <b>bold</b>'];
      writeFileSync(file, lines.join('\n'));
      let dialogs = 0;
      page.on('dialog', (d) => { dialogs++; d.dismiss(); });
      await page.setInputFiles('#import', file);
      await page.waitForSelector('#doc-message');
      for (const li of await page.$$('#docs li.doc')) {
        await li.click();
        await page.waitForSelector('#doc-text');
      }
      const text = await page.textContent('#doc-text');
      assert.ok(lines.some((l) => text.includes(l)), `shown as text: ${text}`);
      assert.equal(await page.evaluate(() => window.__xss), undefined);
      assert.equal(await page.$$eval('#doc-text img, #doc-text script, #doc-text b', (e) => e.length), 0);
      assert.equal(dialogs, 0);
    } },
];
