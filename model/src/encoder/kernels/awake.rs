//! Keeps the rayon pool awake through one forward pass on the CPU.
//!
//! Each parallel op entered from a sleeping pool wakes a worker and puts the caller to sleep
//! until the job is done. Natively that is a futex; in wasm it is `Atomics.notify`/`wait`
//! between web workers, and a V8 profile of the threaded page showed it costing about 0.3 ms
//! per GEMM, as much as a sentence's GEMM saves by being split (docs/BENCHMARKS.md). Here the
//! pass runs on one pool thread while every other pool thread spins on `rayon::yield_now`,
//! so each split is taken by a thread that is already awake, by stealing.
//!
//! Only one pass at a time keeps the pool awake: a pass that starts while another one does
//! (native callers with several streams) runs as before, so that one pass never waits for a
//! spinner busy with another pass's work.
//!
//! At most `cores - 1` threads spin ([`set_cores`]): a spinning web worker cannot hand its core
//! back, so in a pool larger than the cores the spinners would take the pass's own core.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use web_time::Instant;

thread_local! {
    /// Set on a thread while it runs a pass under [`run`] or spins for one.
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

/// Passes under way with their pool kept awake: 0 or 1.
static AWAKE: AtomicUsize = AtomicUsize::new(0);

/// The cores the pool's threads share, as told by [`set_cores`]; 0 when not told.
static CORES: AtomicUsize = AtomicUsize::new(0);

/// Tells the awake pool how many cores its threads share: at most `cores - 1` threads then spin
/// beside a pass, and with one core none do. In wasm a spinning web worker cannot yield its core,
/// so with `?threads=4` on two cores three spinners would share them with the pass; the page
/// passes `navigator.hardwareConcurrency`. Natively spinners yield to the OS every
/// [`POLLS_PER_CLOCK`] polls, and nothing needs to be set. 0 lifts the limit.
pub fn set_cores(cores: usize) {
    CORES.store(cores, Ordering::Release);
}

/// Spinners one pass may have, from [`set_cores`].
fn spinner_limit() -> usize {
    match CORES.load(Ordering::Acquire) {
        0 => usize::MAX,
        cores => cores - 1,
    }
}

/// How long a spinner polls without finding work before it goes back to sleep: far longer than
/// the gaps between a sentence's parallel ops (shorter than a millisecond here). It bounds the one
/// stall this scheme can cause: a thread that has stolen a job of the pass before its spinner
/// reached it may run the spinner while that job waits lower on its stack; the pass then waits
/// for the spinner until it gives up.
#[cfg(not(test))]
const IDLE_LIMIT: Duration = Duration::from_millis(5);
/// Long enough in tests that no spinner gives up while a loaded machine starts the others.
#[cfg(test)]
const IDLE_LIMIT: Duration = Duration::from_millis(1500);

/// Idle polls between two looks at the clock (`performance.now()` in wasm is a call into JS);
/// natively, a spinner also yields its core to the OS there.
const POLLS_PER_CLOCK: u32 = 256;

/// What the spinners of one pass did (read by the tests).
#[derive(Debug, Default)]
pub struct Spinners {
    /// Spinners that started spinning.
    pub started: AtomicUsize,
    /// Spinners spinning now.
    pub live: AtomicUsize,
    /// Spinners that went back to sleep after [`IDLE_LIMIT`] without work.
    pub gave_up: AtomicUsize,
}

/// Sets a flag when dropped, also while unwinding, so that spinners never outlive the pass.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Decrements a counter when dropped.
struct Leave<'a>(&'a AtomicUsize);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Resets [`BUSY`] when dropped.
struct Busy(bool);

impl Busy {
    fn enter() -> Self {
        Busy(BUSY.with(|b| b.replace(true)))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.with(|b| b.set(self.0));
    }
}

/// Runs `f` on a pool thread while every other thread of the pool spins.
///
/// Nested calls (from inside a pass, or from a thread that is spinning) and passes that start
/// while another pass keeps the pool awake just run `f`.
pub fn run<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    run_counted(f, &Spinners::default(), spinner_limit()).0
}

/// [`run`] with at most `limit` spinners, counting what they do in `spinners`; also says whether
/// the pool was kept awake (false for the passes that [`run`] just runs, and when `limit` is 0).
pub fn run_counted<R: Send>(f: impl FnOnce() -> R + Send, spinners: &Spinners, limit: usize) -> (R, bool) {
    if BUSY.with(Cell::get) || limit == 0 {
        return (f(), false);
    }
    if AWAKE.compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire).is_err() {
        return (f(), false);
    }
    let _awake = Leave(&AWAKE);
    let done = AtomicBool::new(false);
    let slots = AtomicUsize::new(limit);
    let out = rayon::scope(|s| {
        let _busy = Busy::enter();
        // One spinner per thread, in each thread's own queue (none can take another's); the
        // copy that reaches this thread finds it busy and returns, and so do those that come
        // after `limit` others have started.
        s.spawn_broadcast(|_, _| spin(&done, &slots, spinners));
        let _done = SetOnDrop(&done);
        f()
    });
    (out, true)
}

/// Runs other pool jobs until `done`, or until [`IDLE_LIMIT`] passes without any. Returns at once
/// when the pass is over or the thread is busy (the pass's own thread, or a spinner that picks up
/// another pass's spinner while it waits inside a job), as it would otherwise wait on itself, and
/// when no `slots` are left.
fn spin(done: &AtomicBool, slots: &AtomicUsize, spinners: &Spinners) {
    if done.load(Ordering::Acquire) || BUSY.with(Cell::get) {
        return;
    }
    if slots.fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| s.checked_sub(1)).is_err() {
        return;
    }
    let _busy = Busy::enter();
    spinners.started.fetch_add(1, Ordering::AcqRel);
    spinners.live.fetch_add(1, Ordering::AcqRel);
    let _live = Leave(&spinners.live);
    let mut idle_since = Instant::now();
    let mut worked = false;
    let mut polls = 0u32;
    while !done.load(Ordering::Acquire) {
        if rayon::yield_now() == Some(rayon::Yield::Executed) {
            worked = true;
            continue;
        }
        std::hint::spin_loop();
        polls = polls.wrapping_add(1);
        if polls % POLLS_PER_CLOCK == 0 {
            #[cfg(not(target_family = "wasm"))]
            std::thread::yield_now();
            if std::mem::take(&mut worked) {
                idle_since = Instant::now();
            } else if idle_since.elapsed() > IDLE_LIMIT {
                spinners.gave_up.fetch_add(1, Ordering::AcqRel);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests;
