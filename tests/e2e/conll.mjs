// CoNLL-2003 helpers for the browser tests: read IOB1 files into sentences with character spans
// (tokens joined by single spaces, as the app's import does), pick a k-shot sample, score spans.
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';

export function sharedData() {
  const dir = resolve(process.env.NUNER_SHARED_DIR ?? '../shared', 'data');
  return existsSync(dir) ? dir : null;
}

/** Sentences of a CoNLL file (label in the last column; IOB1 or IOB2). */
export function readConll(path) {
  const sentences = [];
  let tokens = [];
  let tags = [];
  const flush = () => {
    if (tokens.length) sentences.push(toExample(tokens, tags));
    tokens = [];
    tags = [];
  };
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const t = line.trim();
    if (!t) { flush(); continue; }
    if (t.startsWith('-DOCSTART-')) continue;
    const cols = t.split(/\s+/);
    tokens.push(cols[0]);
    tags.push(cols[cols.length - 1]);
  }
  flush();
  return sentences;
}

function toExample(tokens, tags) {
  let text = '';
  const spans = [];
  let open = null;
  tokens.forEach((tok, i) => {
    if (i) text += ' ';
    const start = [...text].length;
    text += tok;
    const end = [...text].length;
    const tag = tags[i];
    const type = tag === 'O' ? null : tag.slice(2);
    const begins = tag.startsWith('B-') || (type && (!open || open.label !== type));
    if (!type || begins) { if (open) spans.push(open); open = null; }
    if (type && begins) open = { start, end, label: type };
    else if (type) open.end = end;
  });
  if (open) spans.push(open);
  return { text, spans };
}

/** Seeded k-shot sample: sentences until every type has at least k mentions. */
export function kShot(sentences, k, seed) {
  let s = seed >>> 0 || 1;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const order = sentences.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const types = [...new Set(sentences.flatMap((x) => x.spans.map((sp) => sp.label)))].sort();
  const have = Object.fromEntries(types.map((t) => [t, 0]));
  const picked = [];
  for (const i of order) {
    if (types.every((t) => have[t] >= k)) break;
    const ex = sentences[i];
    if (ex.spans.some((sp) => have[sp.label] < k)) {
      ex.spans.forEach((sp) => have[sp.label]++);
      picked.push(ex);
    }
  }
  return picked;
}

/** Exact-match micro F1 over (sentence, start, end, label). */
export function spanF1(gold, pred) {
  const key = (i, s) => `${i}:${s.start}:${s.end}:${s.label}`;
  const g = new Set(gold.flatMap((spans, i) => spans.map((s) => key(i, s))));
  const p = new Set(pred.flatMap((spans, i) => spans.map((s) => key(i, s))));
  const tp = [...p].filter((x) => g.has(x)).length;
  const precision = p.size ? tp / p.size : 0;
  const recall = g.size ? tp / g.size : 0;
  return precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
}
