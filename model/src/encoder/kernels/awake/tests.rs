//! The awake pool on real rayon pools. Each test runs under [`within`], so that a deadlock fails
//! the test instead of hanging the run.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;

use rayon::prelude::*;

use super::*;

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool")
}

/// Runs `test` on its own thread; fails if it has not finished within `limit`.
fn within<T: Send + 'static>(limit: Duration, test: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(AssertUnwindSafe(test)));
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("not finished within {limit:?}: a deadlock?"),
    }
}

/// Spins until `spinners.live` reaches `n` or just under [`IDLE_LIMIT`] has passed (so that
/// the first spinner never gives up while the others start); returns the count reached.
fn wait_for_live(spinners: &Spinners, n: usize) -> usize {
    let t0 = Instant::now();
    while spinners.live.load(Ordering::Acquire) < n && t0.elapsed() < IDLE_LIMIT * 9 / 10 {
        std::hint::spin_loop();
    }
    spinners.live.load(Ordering::Acquire)
}

/// Runs `f` as a pass in `pool` until one keeps the pool awake (another test's pass may hold
/// it meanwhile); returns `f`'s result and what the spinners did.
fn awake_pass<R: Send>(pool: &rayon::ThreadPool, f: impl Fn(&Spinners) -> R + Sync) -> (R, Spinners) {
    awake_pass_limited(pool, usize::MAX, f)
}

/// [`awake_pass`] with at most `limit` spinners.
fn awake_pass_limited<R: Send>(pool: &rayon::ThreadPool, limit: usize, f: impl Fn(&Spinners) -> R + Sync) -> (R, Spinners) {
    for _ in 0..200 {
        let spinners = Spinners::default();
        let (out, awake) = pool.install(|| run_counted(|| f(&spinners), &spinners, limit));
        if awake {
            return (out, spinners);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no pass kept the pool awake");
}

#[test]
fn every_other_thread_spins_through_the_pass_and_stops_when_it_ends() {
    within(Duration::from_secs(120), || {
        for threads in [2, 3, 4] {
            let pool = pool(threads);
            let (live, spinners) = awake_pass(&pool, |s| wait_for_live(s, threads - 1));
            assert_eq!(live, threads - 1, "{threads} threads: spinners during the pass");
            assert_eq!(spinners.started.load(Ordering::Acquire), threads - 1, "{threads} threads: one per other thread");
            assert_eq!(spinners.live.load(Ordering::Acquire), 0, "{threads} threads: none left after the pass");
            assert_eq!(spinners.gave_up.load(Ordering::Acquire), 0, "{threads} threads: they stopped because the pass ended");
        }
    });
}

/// With a limit (the cores, minus the pass's own), only that many threads spin; the others stay
/// asleep. A limit of 0 keeps no thread awake.
#[test]
fn no_more_spinners_than_the_limit() {
    within(Duration::from_secs(120), || {
        let pool = pool(4);
        for limit in [1, 2] {
            let (live, spinners) = awake_pass_limited(&pool, limit, |s| {
                wait_for_live(s, limit);
                // Time for any spinner beyond the limit to start.
                std::thread::sleep(IDLE_LIMIT / 4);
                s.live.load(Ordering::Acquire)
            });
            assert_eq!(live, limit, "limit {limit}: spinners during the pass");
            assert_eq!(spinners.started.load(Ordering::Acquire), limit, "limit {limit}: spinners started");
        }
        let (_, awake) = pool.install(|| run_counted(|| 7, &Spinners::default(), 0));
        assert!(!awake, "limit 0: the pass just runs");
    });
}

#[test]
fn spinners_without_work_go_back_to_sleep() {
    within(Duration::from_secs(120), || {
        let pool = pool(3);
        let (value, spinners) = awake_pass(&pool, |s| {
            wait_for_live(s, 2);
            std::thread::sleep(IDLE_LIMIT * 2);
            7
        });
        assert_eq!(value, 7);
        assert_eq!(spinners.started.load(Ordering::Acquire), 2);
        assert_eq!(spinners.gave_up.load(Ordering::Acquire), 2, "both gave up during the sleep");
    });
}

/// Passes with parallel work inside, nested passes (from the pass's own thread and from pool
/// jobs), and passes entered from several outside threads at once all finish with the right
/// result.
#[test]
fn passes_finish_nested_parallel_and_concurrent() {
    within(Duration::from_secs(120), || {
        for threads in [2, 3, 4] {
            let pool = pool(threads);
            let expected = (0..64u64).sum::<u64>() * (0..1000u64).sum::<u64>();
            let pass = || {
                pool.install(|| {
                    run(|| {
                        (0..64u64)
                            .into_par_iter()
                            .map(|i| run(|| (0..1000u64).into_par_iter().map(|j| i * j).sum::<u64>()))
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
    });
}

/// A panic in the pass reaches the caller, and the spinners stop with the pass, not by giving up.
#[test]
fn a_panic_in_the_pass_propagates_and_stops_the_spinners() {
    within(Duration::from_secs(120), || {
        let pool = pool(3);
        for _ in 0..50 {
            let spinners = Spinners::default();
            let caught = std::panic::catch_unwind(AssertUnwindSafe(|| {
                pool.install(|| {
                    run_counted(
                        || -> u32 {
                            wait_for_live(&spinners, 2);
                            panic!("in the pass")
                        },
                        &spinners,
                        usize::MAX,
                    )
                })
            }));
            let msg = caught.expect_err("the panic propagates");
            assert_eq!(msg.downcast_ref::<&str>(), Some(&"in the pass"));
            if spinners.started.load(Ordering::Acquire) < 2 {
                continue; // another test's pass held the pool awake: try again
            }
            assert_eq!(spinners.live.load(Ordering::Acquire), 0);
            assert_eq!(spinners.gave_up.load(Ordering::Acquire), 0);
            assert_eq!(pool.install(|| run(|| 7)), 7, "the pool still works");
            return;
        }
        panic!("no pass kept the pool awake");
    });
}
