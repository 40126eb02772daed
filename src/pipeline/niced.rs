//! Threads that run CPU work at a lower scheduling priority (nice 10) than the rest of the
//! process. Photos uploaded with a request (forms, after-photos) are cleaned here, so a flood of uploads
//! yields the cores to the citizens' chat photos and to every request. Linux sets the priority
//! per thread; the threads end when the pool is dropped.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, PoisonError};

/// How much lower than the process the threads run (nice 0 → 10).
const NICE: libc::c_int = 10;

type Job = Box<dyn FnOnce() + Send>;

pub struct NicedPool {
    jobs: Sender<Job>,
}

/// Why work sent to the pool brought no result.
#[derive(Debug, PartialEq, Eq)]
pub enum Lost {
    /// The work panicked (it would again with the same input).
    Panicked,
    /// The pool's threads are gone.
    Gone,
}

impl NicedPool {
    /// Starts `threads` threads (at least one).
    pub fn start(threads: usize) -> Self {
        let (jobs, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..threads.max(1) {
            let receiver = receiver.clone();
            let thread = std::thread::Builder::new().name(format!("meldeweg-niced-{n}")).spawn(move || {
                // SAFETY: setpriority on this thread's own id changes only its scheduling.
                unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, NICE) };
                while let Ok(job) = receiver.lock().unwrap_or_else(PoisonError::into_inner).recv() {
                    job();
                }
            });
            if let Err(error) = thread {
                tracing::warn!(%error, "a thread for uploaded photos did not start");
            }
        }
        Self { jobs }
    }

    /// Runs `work` on one of the threads.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Lost> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(std::panic::catch_unwind(AssertUnwindSafe(work)).map_err(|_| Lost::Panicked));
        });
        self.jobs.send(job).map_err(|_| Lost::Gone)?;
        result.await.map_err(|_| Lost::Gone)?
    }
}

#[cfg(test)]
mod tests {
    use super::{Lost, NicedPool};

    #[tokio::test]
    async fn work_runs_at_the_lower_priority_and_a_panic_is_reported() {
        let pool = NicedPool::start(1);
        // SAFETY: getpriority only reads this thread's priority.
        let nice = pool.run(|| unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) });
        assert_eq!(nice.await, Ok(10));
        assert_eq!(pool.run(|| panic!("a decoder bug")).await, Err::<(), _>(Lost::Panicked));
        assert_eq!(pool.run(|| 2 + 2).await, Ok(4), "the thread survives a panic");
    }
}
