//! What an endpoint learned about each peer's conventions, so that one client
//! works unchanged against our servers and against the original Python cara:
//!
//! - **Method names.** Our servers serve `<Interface>.<method>` (and the bare name
//!   while no other interface claims it); the original cara serves bare method
//!   names only. A client calls the qualified name first; if the server answers
//!   `ServiceNotFoundError` (the method did not run), it calls the bare name, and
//!   remembers per interface which form that peer answered, so later calls take
//!   one round trip. (`ServiceNotFoundError` on the remembered form is the answer:
//!   that method is missing. A peer that changes implementation reconnects.)
//! - **`cara.release`.** The original cara does not serve it. The first
//!   `ServiceNotFoundError` for a release marks the peer, and no further releases
//!   are sent to it (its objects live as long as it keeps them).
//!
//! What a peer taught is forgotten when it disconnects.

use std::collections::HashMap;

use super::session::Session;

/// Which name form a peer serves an interface's methods under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Naming {
    /// `<Interface>.<method>`: cara for Rust, and pseud registries named that way.
    Qualified,
    /// `<method>`: the original Python cara (`register_interface`).
    Bare,
}

impl Naming {
    /// The other form.
    pub(crate) fn other(self) -> Naming {
        match self {
            Naming::Qualified => Naming::Bare,
            Naming::Bare => Naming::Qualified,
        }
    }
}

/// Whether a peer serves `cara.release`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Releases {
    /// Not known to refuse it: releases are sent.
    #[default]
    Served,
    /// It answered `ServiceNotFoundError`: releases are not sent.
    NotServed,
}

/// Whether a peer serves `cara.promise` (pipelining). Python peers do not: the
/// first `ServiceNotFoundError` marks the peer, and later calls on results wait
/// for them instead.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Pipelining {
    /// Not known to refuse it.
    #[default]
    Served,
    /// It answered `ServiceNotFoundError`.
    NotServed,
}

/// One peer's conventions, as learned from its answers.
#[derive(Debug, Default)]
pub(crate) struct Dialect {
    naming: HashMap<u64, Naming>,
    releases: Releases,
    pipelining: Pipelining,
}

impl Session {
    /// The name form `peer` answered for interface `interface`, if known yet.
    pub(crate) fn naming(&self, peer: &[u8], interface: u64) -> Option<Naming> {
        self.lock_dialects()
            .get(peer)
            .and_then(|d| d.naming.get(&interface).copied())
    }

    /// Remembers the name form `peer` answered for `interface`.
    pub(crate) fn learn_naming(&self, peer: &[u8], interface: u64, naming: Naming) {
        let mut dialects = self.lock_dialects();
        let previous = dialects
            .entry(peer.to_vec())
            .or_default()
            .naming
            .insert(interface, naming);
        if previous != Some(naming) && naming == Naming::Bare {
            tracing::debug!(
                interface = format_args!("{interface:#x}"),
                "the peer serves bare method names (original cara)"
            );
        }
    }

    /// Whether releases should be sent to `peer`.
    pub(crate) fn releases(&self, peer: &[u8]) -> Releases {
        self.lock_dialects()
            .get(peer)
            .map(|d| d.releases)
            .unwrap_or_default()
    }

    /// Whether calls on results may be pipelined to `peer`.
    pub(crate) fn pipelining(&self, peer: &[u8]) -> Pipelining {
        self.lock_dialects()
            .get(peer)
            .map(|d| d.pipelining)
            .unwrap_or_default()
    }

    /// Remembers that `peer` does not serve `cara.promise`.
    pub(crate) fn learn_no_pipelining(&self, peer: &[u8]) {
        let mut dialects = self.lock_dialects();
        let dialect = dialects.entry(peer.to_vec()).or_default();
        if dialect.pipelining == Pipelining::Served {
            tracing::debug!(
                "the peer does not pipeline (no cara.promise); calls on results wait for them"
            );
        }
        dialect.pipelining = Pipelining::NotServed;
    }

    /// Remembers that `peer` does not serve `cara.release`; true the first time.
    pub(crate) fn learn_no_release(&self, peer: &[u8]) -> bool {
        let mut dialects = self.lock_dialects();
        let dialect = dialects.entry(peer.to_vec()).or_default();
        let first = dialect.releases == Releases::Served;
        dialect.releases = Releases::NotServed;
        first
    }
}
