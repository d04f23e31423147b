// Loader of the multi-threaded CPU build of the model worker (built into ./threads/ by
// scripts/build_threads.sh; chosen by app/src/launch.rs). The page starts it as a classic worker
// through gloo-worker. It instantiates the module, fills rayon's pool with `threads` web workers
// that share the module's memory (wasm-bindgen-rayon), and only then registers the model worker,
// so no request reaches rayon before its threads exist. If any step fails, it says why on the
// BroadcastChannel named by `channel`, and the page restarts on the one-thread worker.
const params = new URL(self.location.href).searchParams;
const threads = Number(params.get('threads')) || navigator.hardwareConcurrency;
import('./threads/worker.js')
  .then(async (pkg) => {
    await pkg.default();
    await pkg.initThreadPool(threads);
    pkg.start_worker();
  })
  .catch((e) => {
    console.error(`the multi-threaded worker failed to start: ${e}`);
    const channel = params.get('channel');
    if (channel) {
      const bc = new BroadcastChannel(channel);
      bc.postMessage(String(e));
      bc.close();
    }
  });
