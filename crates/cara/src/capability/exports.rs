//! Export tables: the objects an endpoint exported to each peer, with reference
//! counts. A peer reaches only what was exported to it; a release or its
//! disconnect frees them.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use super::Target;
use super::session::{Session, hex};
use crate::dispatch::{Dispatch, InterfaceInfo};

/// An object exported to one peer.
pub(crate) enum Export {
    /// A local object.
    Object(Arc<dyn Dispatch>),
    /// Someone else's object, reached through us (forwarding).
    Forward(Target, &'static InterfaceInfo),
}

struct Exported {
    export: Export,
    /// References sent and not yet released.
    refs: u64,
    /// Identity of the exported thing, so sending it again reuses the id.
    key: ExportKey,
}

/// What makes two exports the same thing: the object (or import) pointer, or for
/// a named interface the endpoint it is reached through and the interface table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ExportKey {
    /// A local object or an import, by address.
    Object(usize),
    /// A proxy for a named interface: (endpoint id, interface table address).
    Named(u64, usize),
}

/// The objects exported to one peer.
#[derive(Default)]
pub(crate) struct PeerExports {
    by_id: HashMap<u64, Exported>,
    by_key: HashMap<ExportKey, u64>,
    /// Objects whose last reference this peer released, while they still live
    /// elsewhere: a reply that passed one back may be decoded after the release.
    released: HashMap<u64, Weak<dyn Dispatch>>,
}

impl PeerExports {
    /// How many objects are exported.
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }
}

/// How many released objects a peer's table remembers.
const RELEASED_MEMORY: usize = 1024;

impl Session {
    /// Exports (or re-exports) to `peer`; returns the object id, or `None` if
    /// the peer holds as many objects as it may (`Limits::max_exports`).
    pub(crate) fn export(&self, peer: &[u8], export: Export, key: ExportKey) -> Option<u64> {
        let mut exports = self.lock_exports();
        let table = exports.entry(peer.to_vec()).or_default();
        if let Some(id) = table.by_key.get(&key).copied()
            && let Some(e) = table.by_id.get_mut(&id)
        {
            e.refs += 1;
            return Some(id);
        }
        if table.by_id.len() >= self.max_exports {
            tracing::warn!(peer = %hex(peer), limit = self.max_exports, "export refused: the peer holds as many objects as it may");
            return None;
        }
        let mut id: u64 = rand::random();
        while id == 0 || table.by_id.contains_key(&id) {
            id = rand::random();
        }
        table.by_id.insert(
            id,
            Exported {
                export,
                refs: 1,
                key,
            },
        );
        table.by_key.insert(key, id);
        tracing::debug!(peer = %hex(peer), id = format_args!("{id:x}"), "capability exported");
        Some(id)
    }

    /// The local object exported to `peer` as `id`, if any.
    pub(crate) fn exported(
        &self,
        peer: &[u8],
        id: u64,
    ) -> Option<(Target, &'static InterfaceInfo)> {
        let exports = self.lock_exports();
        exports.get(peer)?.by_id.get(&id).map(|e| match &e.export {
            Export::Object(o) => (Target::Local(o.clone()), o.info()),
            Export::Forward(t, info) => (t.clone(), *info),
        })
    }

    /// An object passed back to us: exported to `peer`, or released by it very
    /// recently and still alive here.
    pub(crate) fn passed_back(&self, peer: &[u8], id: u64) -> Option<Target> {
        if let Some((target, _)) = self.exported(peer, id) {
            return Some(target);
        }
        let exports = self.lock_exports();
        let object = exports.get(peer)?.released.get(&id)?.upgrade()?;
        Some(Target::Local(object))
    }

    /// `peer` dropped `count` references to object `id`.
    pub(crate) fn release(&self, peer: &[u8], id: u64, count: u64) {
        let mut exports = self.lock_exports();
        let Some(table) = exports.get_mut(peer) else {
            return;
        };
        let Some(e) = table.by_id.get_mut(&id) else {
            return;
        };
        e.refs = e.refs.saturating_sub(count);
        if e.refs == 0 {
            let key = e.key;
            if let Some(Exported {
                export: Export::Object(object),
                ..
            }) = table.by_id.remove(&id)
            {
                if table.released.len() >= RELEASED_MEMORY {
                    table.released.retain(|_, w| w.strong_count() > 0);
                }
                if table.released.len() < RELEASED_MEMORY {
                    table.released.insert(id, Arc::downgrade(&object));
                }
            }
            table.by_key.remove(&key);
            tracing::debug!(peer = %hex(peer), id = format_args!("{id:x}"), "capability released");
            drop(exports);
            self.object_released(peer, id);
        }
    }
}
