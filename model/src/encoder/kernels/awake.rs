//! Keeps the rayon pool awake through one forward pass on the CPU.
//!
//! Each parallel op entered from a sleeping pool wakes a worker and puts the caller to sleep
//! until the job is done. Natively that is a futex; in wasm it is `Atomics.notify`/`wait`
//! between web workers, and a V8 profile of the threaded page showed it costing about 0.3 ms
//! per GEMM, as much as a sentence's GEMM saves by being split (docs/BENCHMARKS.md). Here the
//! pass runs on one pool thread while every other pool thread spins on `rayon::yield_now`,
//! so each split is taken by a thread that is already awake, by stealing.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use web_time::Instant;

thread_local! {
    /// Set on a thread while it runs a pass under [`run`] or spins for one.
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

/// How long a spinner polls without finding work before it goes back to sleep: far longer than
/// the gaps between a sentence's parallel ops. It bounds the one stall this scheme can cause:
/// with three or more threads, a thread can pick up a spinner while a job of the same pass is
/// waiting lower on its own stack; the pass then waits for the spinner, until it gives up.
const IDLE_LIMIT: Duration = Duration::from_millis(5);

/// Polls between two looks at the clock (`performance.now()` in wasm is a call into JS).
const POLLS_PER_CLOCK: u32 = 256;

/// Sets a flag when dropped, also while unwinding, so that spinners never outlive the pass.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
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

/// Runs `f` on a pool thread while the pool's `threads - 1` other threads spin.
///
/// Nested calls (from inside a pass, or from a thread that is spinning) just run `f`.
pub fn run<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    if BUSY.with(Cell::get) {
        return f();
    }
    let done = AtomicBool::new(false);
    rayon::scope(|s| {
        let _busy = Busy::enter();
        for _ in 1..threads {
            s.spawn(|_| spin(&done));
        }
        let _done = SetOnDrop(&done);
        f()
    })
}

/// Runs other pool jobs until `done`. Returns at once on a thread that is already busy: the
/// pass's own thread pops spinners from its deque while it waits inside a `join`, and a spinner
/// can steal another spinner while it waits; either would otherwise wait on itself.
fn spin(done: &AtomicBool) {
    if BUSY.with(Cell::get) {
        return;
    }
    let _busy = Busy::enter();
    let mut idle_since = Instant::now();
    let mut polls = 0;
    while !done.load(Ordering::Acquire) {
        if rayon::yield_now() == Some(rayon::Yield::Executed) {
            polls = 0;
            idle_since = Instant::now();
            continue;
        }
        std::hint::spin_loop();
        polls += 1;
        if polls % POLLS_PER_CLOCK == 0 && idle_since.elapsed() > IDLE_LIMIT {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool")
    }

    /// Passes with parallel work inside, nested passes (from the pass's own thread and from
    /// pool jobs), and passes entered from several outside threads at once all finish with the
    /// right result.
    #[test]
    fn passes_finish_nested_parallel_and_concurrent() {
        for threads in [2, 3, 4] {
            let pool = pool(threads);
            let expected = (0..64u64).sum::<u64>() * (0..1000u64).sum::<u64>();
            let pass = || {
                pool.install(|| {
                    run(threads, || {
                        (0..64u64)
                            .into_par_iter()
                            .map(|i| run(threads, || (0..1000u64).into_par_iter().map(|j| i * j).sum::<u64>()))
                            .sum::<u64>()
                    })
                })
            };
            for _ in 0..20 {
                let sums: Vec<u64> = std::thread::scope(|s| {
                    let streams: Vec<_> = (0..3).map(|_| s.spawn(pass)).collect();
                    streams.into_iter().map(|t| t.join().expect("no panic")).collect()
                });
                assert_eq!(sums, vec![expected; 3], "{threads} threads");
            }
        }
    }

    /// A panic in the pass reaches the caller, and the spinners stop (the call returns).
    #[test]
    fn a_panic_in_the_pass_propagates() {
        let pool = pool(3);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.install(|| run(3, || -> u32 { panic!("in the pass") }))
        }));
        let msg = caught.expect_err("the panic propagates");
        assert_eq!(msg.downcast_ref::<&str>(), Some(&"in the pass"));
        assert_eq!(pool.install(|| run(3, || 7)), 7, "the pool still works");
    }
}
