// Driving the app like a person: real mouse selections and key presses.

export async function ready(page, url, query = '') {
  await page.goto(url + query);
  await page.waitForSelector('[data-state=ready]', { timeout: 180_000 });
}

export async function tab(page, name) {
  await page.click(`#tab-${name}`);
}

/** Adds documents by pasting them, one per line. */
export async function addDocs(page, texts) {
  await tab(page, 'annotate');
  await page.fill('#paste', texts.join('\n'));
  await page.click('#add-docs');
}

export async function addType(page, name) {
  await page.fill('#new-type', name);
  await page.press('#new-type', 'Enter');
}

/** Screen point at the left or right edge of character `index` of the open document. */
async function charPoint(page, index, side) {
  return page.evaluate(({ index, side }) => {
    for (const el of document.querySelectorAll('#doc-text [data-s]')) {
      const s = Number(el.dataset.s);
      const e = Number(el.dataset.e);
      if (index < s || index >= e) continue;
      const node = el.firstChild;
      const text = node.textContent;
      // character offset -> UTF-16 offset inside this piece
      const u = [...text].slice(0, index - s).join('').length;
      const len = [...text][index - s].length;
      const range = document.createRange();
      range.setStart(node, u);
      range.setEnd(node, u + len);
      const r = range.getClientRects()[0];
      return { x: side === 'left' ? r.left + 1 : r.right - 1, y: r.top + r.height / 2 };
    }
    throw new Error(`no piece holds character ${index}`);
  }, { index, side });
}

/** Selects characters [start, end) of the open document with the mouse and presses `key`. */
export async function labelByMouse(page, start, end, key) {
  const a = await charPoint(page, start, 'left');
  const b = await charPoint(page, end - 1, 'right');
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 3 });
  await page.mouse.move(b.x, b.y, { steps: 3 });
  await page.mouse.up();
  await page.waitForSelector('#picked');
  await page.keyboard.press(key);
  await page.waitForFunction(({ start, end }) =>
    !!document.querySelector(`#doc-text mark[data-start="${start}"][data-end="${end}"]`), { start, end });
}

/** Labels of the open document, read from the page. */
export async function docSpans(page) {
  return page.$$eval('#doc-text mark.ent:not(.suggestion)', (ms) =>
    ms.map((m) => ({ start: Number(m.dataset.start), end: Number(m.dataset.end), label: m.dataset.label })));
}

/** Trains on the labelled documents and waits for the head. */
export async function train(page, timeout = 600_000) {
  await tab(page, 'train');
  await page.click('#train');
  await page.waitForSelector('#trained', { timeout });
}

/** Predicts entities in `lines` (one text each) on the Highlight screen; returns spans per line. */
export async function highlight(page, lines, timeout = 900_000) {
  await tab(page, 'highlight');
  await page.fill('#highlight-text', lines.join('\n'));
  const before = await page.$eval('#highlight-timing', (e) => e.textContent).catch(() => null);
  await page.click('#highlight');
  await page.waitForFunction((b) => {
    const t = document.querySelector('#highlight-timing');
    return t && t.textContent !== b && document.querySelectorAll('#highlighted .hl-line').length > 0;
  }, before, { timeout });
  return page.$$eval('#highlighted .hl-line', (ls) => ls.map((l) => [...l.querySelectorAll('mark')].map((m) => ({
    start: Number(m.dataset.start), end: Number(m.dataset.end), label: m.dataset.label, score: Number(m.dataset.score),
  }))));
}

/**
 * Waits until the page's IndexedDB holds a trained head (the app writes it after `#head-status` shows).
 * Call it only once the app has opened its database: opening a missing one here would create it empty.
 */
export async function headStored(page, timeout = 30_000) {
  await page.waitForFunction(() => new Promise((resolve) => {
    const open = indexedDB.open('nuner');
    open.onerror = () => resolve(false);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('state')) { db.close(); resolve(false); return; }
      const get = db.transaction('state').objectStore('state').get('head');
      get.onsuccess = () => { db.close(); resolve(typeof get.result === 'string'); };
      get.onerror = () => { db.close(); resolve(false); };
    };
  }), null, { timeout, polling: 250 });
}
