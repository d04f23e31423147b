// transformers.js (onnxruntime-web, wasm) on all-MiniLM-L6-v2, timed as the app's own bench
// (app/src/worker/tasks.rs `bench`): encoder throughput on a batch of 32 x 128 pseudo-random ids
// ([CLS] ... [SEP]), and the latency of one sentence (tokenise + forward), both warm.
// Query: ?threads=N&dtype=fp32|q8. Sets <body data-result=JSON> when done, or data-error.
import { env, AutoTokenizer, AutoModel, Tensor } from './tjs/transformers.js';

const q = new URLSearchParams(location.search);
const threads = Number(q.get('threads') ?? 1);
const dtype = q.get('dtype') ?? 'fp32';
const SENTENCE = 'Barack Obama met Angela Merkel in Berlin on Tuesday to discuss the Paris agreement.';
const [BATCH, SEQ, BATCH_WARMUP, BATCH_ITERS] = [32, 128, 1, 3];
// transformers.js runs its first ~30 calls about twice as slow: warm well before timing.
const [SENTENCE_WARMUP, SENTENCE_ITERS] = [40, 50];

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = './models/';
env.backends.onnx.wasm.wasmPaths = new URL('./tjs/', location.href).href;
env.backends.onnx.wasm.numThreads = threads;

async function main() {
  const tokenizer = await AutoTokenizer.from_pretrained('all-MiniLM-L6-v2');
  const model = await AutoModel.from_pretrained('all-MiniLM-L6-v2', { dtype, device: 'wasm' });
  // The same ids as the app's bench: an LCG over [1000, vocab).
  let seed = 42n;
  const mask64 = (1n << 64n) - 1n;
  const ids = new BigInt64Array(BATCH * SEQ);
  for (let b = 0; b < BATCH; b++) {
    ids[b * SEQ] = 101n;
    for (let t = 1; t < SEQ - 1; t++) {
      seed = (seed * 6364136223846793005n + 1442695040888963407n) & mask64;
      ids[b * SEQ + t] = ((seed >> 33n) % (30522n - 1000n)) + 1000n;
    }
    ids[b * SEQ + SEQ - 1] = 102n;
  }
  const batch = {
    input_ids: new Tensor('int64', ids, [BATCH, SEQ]),
    attention_mask: new Tensor('int64', new BigInt64Array(BATCH * SEQ).fill(1n), [BATCH, SEQ]),
    token_type_ids: new Tensor('int64', new BigInt64Array(BATCH * SEQ), [BATCH, SEQ]),
  };
  for (let i = 0; i < BATCH_WARMUP; i++) await model(batch);
  let t0 = performance.now();
  for (let i = 0; i < BATCH_ITERS; i++) await model(batch);
  const tokens_per_s = (BATCH_ITERS * BATCH * SEQ) / ((performance.now() - t0) / 1e3);
  const once = async () => model(await tokenizer(SENTENCE));
  for (let i = 0; i < SENTENCE_WARMUP; i++) await once();
  t0 = performance.now();
  for (let i = 0; i < SENTENCE_ITERS; i++) await once();
  const sentence_ms = (performance.now() - t0) / SENTENCE_ITERS;
  const sentence_tokens = (await tokenizer(SENTENCE)).input_ids.dims[1];
  return { backend: `transformers.js 3.8.1 (onnxruntime-web, wasm, ${threads} thread${threads > 1 ? 's' : ''}, ${dtype})`,
    tokens_per_s, sentence_ms, sentence_tokens, cross_origin_isolated: self.crossOriginIsolated };
}

main().then(
  (r) => { document.body.dataset.result = JSON.stringify(r); },
  (e) => { document.body.dataset.error = String(e?.stack ?? e); },
);
