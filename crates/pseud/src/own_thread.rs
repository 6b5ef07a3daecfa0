//! Running a socket task on its own OS thread.
//!
//! A server's socket loop gets a thread of its own (a current-thread tokio
//! runtime), with its connections' tasks: a message wakes that thread directly
//! instead of going through the application's worker pool, and the connections
//! hand messages to the socket task without crossing threads. Handlers still
//! run on the application's runtime: code they spawn goes there too.

use std::future::Future;

use tokio::runtime::Runtime;

use crate::error::Error;

/// A runtime for one socket task, to be moved onto its thread.
pub(crate) struct OwnThread {
    // An `Option` so that `Drop` can take it: dropping a runtime inside an async
    // context panics, while `shutdown_background` never does.
    runtime: Option<Runtime>,
}

impl OwnThread {
    pub(crate) fn new() -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Setup(format!("cannot build the socket thread's runtime: {e}")))?;
        Ok(OwnThread {
            runtime: Some(runtime),
        })
    }

    /// Makes this runtime current until the guard drops: sockets created meanwhile
    /// register their fds with it.
    pub(crate) fn enter(&self) -> Option<tokio::runtime::EnterGuard<'_>> {
        self.runtime.as_ref().map(Runtime::enter)
    }

    /// Runs `task` to completion on a new thread named `name`.
    /// (If the thread cannot start, the runtime is shut down here without panicking.)
    pub(crate) fn spawn(
        self,
        name: String,
        task: impl Future<Output = ()> + Send + 'static,
    ) -> Result<std::thread::JoinHandle<()>, Error> {
        std::thread::Builder::new()
            .name(name)
            .spawn(move || {
                if let Some(runtime) = &self.runtime {
                    runtime.block_on(task);
                }
            })
            .map_err(|e| Error::Setup(format!("cannot start the socket thread: {e}")))
    }
}

impl Drop for OwnThread {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
