//! Imports: references to objects another peer exported to us. All references
//! received for one object share one [`Import`]; when the last stub drops, the
//! exporter is told with one `cara.release` (unless it is known not to serve it).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use pseud::{Remote, Value};

use super::dialect::Releases;
use super::session::{PeerKey, Session, hex};
use super::wire::RELEASE;

/// A reference to an object another peer exported to us.
pub(crate) struct Import {
    pub(super) session: Arc<Session>,
    pub(super) peer: PeerKey,
    pub(crate) id: u64,
    pub(crate) remote: Remote,
    /// References received; all are released together when the last stub drops.
    received: AtomicU64,
    /// False once the peer disconnected: calls fail fast.
    alive: AtomicBool,
}

impl Import {
    pub(crate) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    /// The peer is gone: calls fail fast, and nothing is released on drop.
    pub(super) fn kill(&self) {
        self.alive.store(false, Ordering::Release);
    }
}

impl Session {
    /// An imported reference to object `id` of `peer`, shared while it lives.
    pub(crate) fn import(self: &Arc<Self>, peer: &[u8], id: u64, remote: &Remote) -> Arc<Import> {
        let mut imports = self.lock_imports();
        let key = (peer.to_vec(), id);
        if let Some(existing) = imports.get(&key).and_then(Weak::upgrade)
            && existing.is_alive()
        {
            existing.received.fetch_add(1, Ordering::AcqRel);
            return existing;
        }
        let import = Arc::new(Import {
            session: self.clone(),
            peer: peer.to_vec(),
            id,
            remote: remote.clone(),
            received: AtomicU64::new(1),
            alive: AtomicBool::new(true),
        });
        imports.insert(key, Arc::downgrade(&import));
        import
    }

    /// Forgets `import` if it is still the one registered under its key.
    fn forget_import(&self, import: &Import) {
        let mut imports = self.lock_imports();
        let key = (import.peer.clone(), import.id);
        if imports
            .get(&key)
            .is_some_and(|w| std::ptr::eq(w.as_ptr(), import))
        {
            imports.remove(&key);
        }
    }
}

impl Drop for Import {
    fn drop(&mut self) {
        self.session.forget_import(self);
        if !self.is_alive() || self.session.releases(&self.peer) == Releases::NotServed {
            return;
        }
        let count = self.received.load(Ordering::Acquire);
        let remote = self.remote.clone();
        let id = self.id;
        let session = self.session.clone();
        let peer = self.peer.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let sent = remote
                    .request(RELEASE)
                    .args((id, count))
                    .send::<Value>()
                    .await;
                match sent {
                    Ok(_) => {}
                    Err(pseud::Error::Remote(e)) if e.class == pseud::SERVICE_NOT_FOUND => {
                        if session.learn_no_release(&peer) {
                            tracing::info!(peer = %hex(&peer), "the peer does not serve cara.release (original cara); objects it exported to us live as long as it keeps them, and no more releases are sent to it");
                        }
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "release not delivered (the peer frees our references when we disconnect)");
                    }
                }
            });
        }
    }
}
