// Loader of the multi-threaded CPU build of the model worker (built into ./threads/ by
// scripts/build_threads.sh; chosen by app/src/launch.rs). The page starts it as a classic worker
// through gloo-worker. It instantiates the module, fills rayon's pool with `threads` web workers
// that share the module's memory (wasm-bindgen-rayon), and only then registers the model worker,
// so no request reaches rayon before its threads exist.
//
// On the BroadcastChannel named by `channel` it reports each step ({ step }) so the page's
// start timeout restarts, and a failure ({ failed }); then it closes itself (and its pool), and
// the page restarts on the one-thread worker. It also closes when the page posts 'stop'.
const params = new URL(self.location.href).searchParams;
const threads = Number(params.get('threads')) || navigator.hardwareConcurrency;
const channel = params.get('channel') ? new BroadcastChannel(params.get('channel')) : null;
const say = (message) => channel?.postMessage(message);
if (channel) channel.onmessage = (e) => { if (e.data === 'stop') self.close(); };
import('./threads/worker.js')
  .then(async (pkg) => {
    say({ step: 'module loaded' });
    await pkg.default();
    say({ step: 'module instantiated' });
    await pkg.initThreadPool(threads);
    say({ step: `${threads} threads started` });
    pkg.start_worker(navigator.hardwareConcurrency || 0);
  })
  .catch((e) => {
    console.error(`the multi-threaded worker failed to start: ${e}`);
    say({ failed: String(e) });
    channel?.close();
    self.close();
  });
