//! Calling from code without an async runtime: scripts, command-line tools, test
//! harnesses, sync code bases.
//!
//! [`Runtime`] owns a small tokio runtime (one worker thread) that runs the
//! connections; the generated (async) clients are used as they are, and
//! [`Runtime::block_on`] waits for a call:
//!
//! ```no_run
//! # mod schemas { cara::schema!("../../schemas/calculator.capnp"); }
//! # use schemas::calculator_capnp::CalculatorClient;
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let rt = cara::blocking::Runtime::new()?;
//!     let calc = rt.enter(|| CalculatorClient::connect("tcp://127.0.0.1:5555"))?;
//!     println!("{}", rt.block_on(calc.add(2, 5))?); // 7
//!     Ok(())
//! }
//! ```
//!
//! Everything else stays as with the async API: security and timeouts on the
//! builder (`connect_with`), heartbeats, capabilities, and server→client calls,
//! which the runtime's worker serves in the background while the caller waits or
//! does something else.
//!
//! Inside an async runtime, `block_on` does not panic and does not deadlock: it
//! waits on a helper thread, which blocks the calling task's thread meanwhile. Await
//! the client there instead.

use std::future::Future;

/// A tokio runtime of its own for connections and calls made from sync code.
pub struct Runtime {
    rt: tokio::runtime::Runtime,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cara::blocking::Runtime")
    }
}

impl Runtime {
    /// A runtime with one worker thread (named `cara-blocking`) and timers and I/O.
    pub fn new() -> Result<Self, pseud::Error> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("cara-blocking")
            .enable_all()
            .build()
            .map_err(|e| pseud::Error::Setup(format!("cannot start a tokio runtime: {e}")))?;
        Ok(Runtime { rt })
    }

    /// Runs `f` inside the runtime: create clients and servers here
    /// (`XClient::connect`, `cara::Client::builder().connect`), so that their
    /// connections run on it.
    pub fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = self.rt.enter();
        f()
    }

    /// Waits for `future` (a call) and returns its output.
    pub fn block_on<F>(&self, future: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        if tokio::runtime::Handle::try_current().is_err() {
            return self.rt.block_on(future);
        }
        // Inside another runtime its thread may not block_on: wait on a helper
        // thread that has no runtime of its own.
        std::thread::scope(|s| {
            let waiter = s.spawn(|| self.rt.block_on(future));
            match waiter.join() {
                Ok(output) => output,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }
}
