//! The broker's task: pairs each client connection with a connection to a
//! replica and moves messages between the two, holding the reader of a side
//! whose other side is full (flow control end to end, nothing queued without
//! bound).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Notify, OwnedSemaphorePermit, mpsc, watch};
use tokio::time::Instant;

use crate::engine::error_body;
use crate::error::{Fault, SERVICE_UNAVAILABLE};
use crate::protocol::{MessageType, VERSION, hex};
use crate::zmtp::connection::Sent;
use crate::zmtp::router::{Mechanism, Router};
use crate::zmtp::{ClientMechanism, Endpoint, Incoming, Link, RouterConfig};

/// How long a replica whose connection failed is left out of new pairings,
/// unless [`super::BrokerBuilder::replica_down_for`] says otherwise.
pub(super) const DOWN_FOR: Duration = Duration::from_secs(1);
/// How long a client's calls wait for a replica while none is up, before they
/// are answered `ServiceUnavailableError`: long enough for replicas started at
/// the same moment as the broker to bind. [`super::BrokerBuilder::wait_for_replica`]
/// changes it.
pub(super) const WAIT_FOR_REPLICA: Duration = Duration::from_secs(1);

/// What [`Switch::new`] is given.
pub(super) struct Setup {
    pub front: Router,
    pub front_rx: mpsc::UnboundedReceiver<Incoming>,
    /// Signalled by every link of both sides that has room again.
    pub room: Arc<Notify>,
    /// The replica side's connections (the mechanism is set per client).
    pub back_config: RouterConfig,
    pub secret: Option<String>,
    pub replicas: Vec<Endpoint>,
    pub status: Arc<Mutex<Vec<Standing>>>,
    /// See [`DOWN_FOR`].
    pub down_for: Duration,
    /// See [`WAIT_FOR_REPLICA`].
    pub wait_for_replica: Duration,
}

/// A replica's load and whether it is left out: what pairing goes by, and what
/// [`super::Broker::replicas`] shows (it works out `up` when asked, as the time
/// a replica is left out for runs out by itself).
#[derive(Clone, Copy, Default)]
pub(super) struct Standing {
    /// Client connections paired with it.
    pub clients: usize,
    /// Left out of new pairings until then.
    pub down_until: Option<Instant>,
}

impl Standing {
    pub fn up_at(&self, now: Instant) -> bool {
        self.down_until.is_none_or(|t| t <= now)
    }
}

struct Replica {
    endpoint: Endpoint,
    standing: Standing,
}

/// Messages waiting to go out on one link, and the read credit of the
/// connection they came from, held until they are gone.
#[derive(Default)]
struct Queue {
    messages: VecDeque<Vec<Bytes>>,
    credits: Vec<OwnedSemaphorePermit>,
}

impl Queue {
    fn push(&mut self, messages: Vec<Vec<Bytes>>, credit: OwnedSemaphorePermit) {
        self.messages.extend(messages);
        self.credits.push(credit);
    }

    /// Sends what the link takes; true when everything went (or the link is gone:
    /// its disconnect ends the pair).
    fn pump(&mut self, link: &Link) -> bool {
        let mut flush = false;
        let mut done = true;
        while let Some(message) = self.messages.front() {
            let frames: Vec<&[u8]> = message.iter().map(|f| &f[..]).collect();
            match link.send(&frames) {
                (Sent::Ok, first) => {
                    flush |= first;
                    self.messages.pop_front();
                }
                (Sent::WouldBlock, _) => {
                    done = false;
                    break;
                }
                (Sent::Unreachable, _) => {
                    self.messages.clear();
                    break;
                }
            }
        }
        if flush {
            link.flush();
        }
        if self.messages.is_empty() {
            // The connections these came from may read on.
            self.credits.clear();
        }
        done
    }
}

/// One client connection and its replica connection.
struct Pair {
    /// The client connection's routing id (the key of `by_client`).
    client: Arc<[u8]>,
    client_conn: u64,
    client_link: Arc<Link>,
    user_id: Vec<u8>,
    replica: usize,
    /// Dropping it closes the replica connection.
    back: Router,
    forward: tokio::task::AbortHandle,
    /// Set once the replica connection's handshake succeeded.
    replica_link: Option<Arc<Link>>,
    /// When this client began waiting for a replica (its connection, or a move).
    waiting_since: Instant,
    to_replica: Queue,
    to_client: Queue,
}

impl Drop for Pair {
    fn drop(&mut self) {
        self.forward.abort();
    }
}

pub(super) struct Switch {
    /// Owned, never read: its listeners and client connections live as long as it.
    _front: Router,
    front_rx: mpsc::UnboundedReceiver<Incoming>,
    room: Arc<Notify>,
    back_config: RouterConfig,
    secret: Option<String>,
    replicas: Vec<Replica>,
    status: Arc<Mutex<Vec<Standing>>>,
    back_tx: mpsc::UnboundedSender<(u64, Incoming)>,
    back_rx: mpsc::UnboundedReceiver<(u64, Incoming)>,
    pairs: HashMap<u64, Pair>,
    /// Client routing id → pair.
    by_client: HashMap<Arc<[u8]>, u64>,
    /// Pairs with messages a full link refused.
    stalled: HashSet<u64>,
    next_pair: u64,
    down_for: Duration,
    wait_for_replica: Duration,
    /// The replica last paired with (ties in [`Switch::pick`] go to the one after it).
    last_pick: usize,
}

impl Switch {
    pub(super) fn new(setup: Setup) -> Switch {
        let (back_tx, back_rx) = mpsc::unbounded_channel();
        Switch {
            _front: setup.front,
            front_rx: setup.front_rx,
            room: setup.room,
            back_config: setup.back_config,
            secret: setup.secret,
            replicas: setup
                .replicas
                .into_iter()
                .map(|endpoint| Replica {
                    endpoint,
                    standing: Standing::default(),
                })
                .collect(),
            status: setup.status,
            back_tx,
            back_rx,
            pairs: HashMap::new(),
            by_client: HashMap::new(),
            stalled: HashSet::new(),
            next_pair: 1,
            down_for: setup.down_for,
            wait_for_replica: setup.wait_for_replica,
            // So that the first tie goes to replica 0.
            last_pick: usize::MAX,
        }
    }

    pub(super) async fn run(mut self, mut stop: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                item = self.front_rx.recv() => match item {
                    Some(item) => self.on_client(item),
                    None => break,
                },
                Some((pair, item)) = self.back_rx.recv() => self.on_replica(pair, item),
                () = self.room.notified() => self.pump_stalled(),
                _ = stop.changed() => break,
            }
        }
        // Dropping the pairs (here) and the front router (with `self`) closes
        // every connection.
        self.pairs.clear();
    }

    fn on_client(&mut self, item: Incoming) {
        match item {
            Incoming::Connected {
                routing_id,
                user_id,
                link,
                conn,
                ..
            } => self.pair(routing_id, user_id, link, conn),
            Incoming::Messages {
                routing_id,
                messages,
                credit,
            } => {
                // Messages of a client whose pair is gone are dropped with its
                // connection, which is closing: its calls fail there as Disconnected.
                let all_down = self.all_down();
                if let Some(&id) = self.by_client.get(&routing_id)
                    && let Some(pair) = self.pairs.get_mut(&id)
                {
                    if pair.replica_link.is_none()
                        && all_down
                        && pair.waiting_since.elapsed() >= self.wait_for_replica
                    {
                        refuse(&pair.client_link, messages);
                        return;
                    }
                    pair.to_replica.push(messages, credit);
                    self.pump(id);
                }
            }
            Incoming::Disconnected {
                routing_id, conn, ..
            } => {
                if let Some(&id) = self.by_client.get(&routing_id)
                    && self.pairs.get(&id).is_some_and(|p| p.client_conn == conn)
                {
                    tracing::debug!(client = %hex(&routing_id), "client left; its replica connection closes");
                    self.by_client.remove(&routing_id);
                    self.unpair(id);
                }
            }
            Incoming::HandshakeFailed {
                endpoint, reason, ..
            } => tracing::info!(%endpoint, %reason, "a client failed its handshake"),
            Incoming::ConnectRetried { .. } => {}
        }
    }

    fn on_replica(&mut self, id: u64, item: Incoming) {
        let Some(pair) = self.pairs.get_mut(&id) else {
            return; // a pair already ended
        };
        let replica = pair.replica;
        match item {
            Incoming::Connected { link, .. } => {
                tracing::debug!(replica = %self.replicas[replica].endpoint, user = %String::from_utf8_lossy(&pair.user_id), "client paired");
                pair.replica_link = Some(link);
                self.replicas[replica].standing.down_until = None;
                self.publish();
                self.pump(id);
            }
            Incoming::Messages {
                messages, credit, ..
            } => {
                pair.to_client.push(messages, credit);
                self.pump(id);
            }
            Incoming::Disconnected { endpoint, .. } => {
                // The replica went (or dropped us): the client's calls on it fail
                // as its connection closes, and it reconnects to a live one.
                tracing::warn!(replica = %endpoint, "replica connection lost; closing its client's connection");
                pair.client_link.close();
                self.mark_down(replica);
                self.unpair_client(id);
            }
            Incoming::ConnectRetried { endpoint, reason } => {
                tracing::warn!(replica = %endpoint, %reason, "replica unreachable");
                self.mark_down(replica);
                self.move_pair(id);
                self.refuse_if_all_down(id);
            }
            Incoming::HandshakeFailed {
                endpoint, reason, ..
            } => {
                tracing::error!(replica = %endpoint, %reason, "replica refused the broker's handshake (is the replica secret the same on both?)");
                self.mark_down(replica);
                self.move_pair(id);
                self.refuse_if_all_down(id);
            }
        }
    }

    /// A client connected: pair it with the live replica with fewest clients.
    fn pair(&mut self, routing_id: Arc<[u8]>, user_id: Vec<u8>, link: Arc<Link>, conn: u64) {
        let id = self.next_pair;
        self.next_pair += 1;
        let replica = self.pick(None);
        self.last_pick = replica;
        let (back, forward) = self.connect_replica(id, replica, &user_id);
        self.replicas[replica].standing.clients += 1;
        if let Some(old) = self.by_client.insert(routing_id.clone(), id) {
            self.unpair(old);
        }
        self.pairs.insert(
            id,
            Pair {
                client: routing_id,
                client_conn: conn,
                client_link: link,
                user_id,
                replica,
                back,
                forward,
                replica_link: None,
                waiting_since: Instant::now(),
                to_replica: Queue::default(),
                to_client: Queue::default(),
            },
        );
        self.publish();
    }

    /// Opens the replica side of pair `id`, logged in as `user_id`.
    fn connect_replica(
        &self,
        id: u64,
        replica: usize,
        user_id: &[u8],
    ) -> (Router, tokio::task::AbortHandle) {
        let mut config = self.back_config.clone();
        config.mechanism = Mechanism::Client(match &self.secret {
            Some(secret) => ClientMechanism::Plain {
                username: String::from_utf8_lossy(user_id).into_owned(),
                password: secret.clone(),
            },
            None => ClientMechanism::Null,
        });
        let (back, mut rx) = Router::with_room(config, self.room.clone());
        back.connect(&self.replicas[replica].endpoint);
        let tx = self.back_tx.clone();
        let forward = tokio::spawn(async move {
            while let Some(item) = rx.recv().await {
                if tx.send((id, item)).is_err() {
                    break;
                }
            }
        })
        .abort_handle();
        (back, forward)
    }

    /// The replica not left out with fewest clients (after `not`, if another is
    /// up); when all are left out, the one back soonest. Ties go to the next
    /// replica after the last one paired with (`last_pick`), so clients that
    /// connect one after another (or come back after a failure) take turns
    /// instead of piling onto the first replica.
    fn pick(&self, not: Option<usize>) -> usize {
        let now = Instant::now();
        let n = self.replicas.len();
        let first = self.last_pick.wrapping_add(1) % n;
        let turn = |i: usize| (i + n - first) % n;
        let standings = || self.replicas.iter().map(|r| r.standing).enumerate();
        standings()
            .filter(|(i, s)| s.up_at(now) && Some(*i) != not)
            .min_by_key(|(i, s)| (s.clients, turn(*i)))
            .or_else(|| standings().min_by_key(|(i, s)| (s.down_until, turn(*i))))
            .map_or(0, |(i, _)| i)
    }

    /// Pair `id`'s replica cannot be reached: before its handshake, the client
    /// moves to another replica (its messages wait in the pair); with none
    /// other up, it stays and its connection keeps retrying.
    fn move_pair(&mut self, id: u64) {
        let Some(pair) = self.pairs.get(&id) else {
            return;
        };
        if pair.replica_link.is_some() {
            return;
        }
        let from = pair.replica;
        let to = self.pick(Some(from));
        if to == from || !self.replicas[to].standing.up_at(Instant::now()) {
            return;
        }
        let user_id = pair.user_id.clone();
        self.last_pick = to;
        let (back, forward) = self.connect_replica(id, to, &user_id);
        self.replicas[from].standing.clients -= 1;
        self.replicas[to].standing.clients += 1;
        if let Some(pair) = self.pairs.get_mut(&id) {
            pair.replica = to;
            pair.back = back; // the old one closes
            pair.forward.abort();
            pair.forward = forward;
        }
        self.publish();
    }

    /// Whether every replica failed within its [`DOWN_FOR`].
    fn all_down(&self) -> bool {
        let now = Instant::now();
        self.replicas.iter().all(|r| !r.standing.up_at(now))
    }

    /// With no replica up for [`WAIT_FOR_REPLICA`], the calls pair `id` holds
    /// get an answer instead of waiting out their timeout.
    fn refuse_if_all_down(&mut self, id: u64) {
        if !self.all_down() {
            return;
        }
        if let Some(pair) = self.pairs.get_mut(&id)
            && pair.replica_link.is_none()
            && pair.waiting_since.elapsed() >= self.wait_for_replica
        {
            let held: Vec<Vec<Bytes>> = pair.to_replica.messages.drain(..).collect();
            pair.to_replica.credits.clear();
            refuse(&pair.client_link, held);
        }
    }

    fn mark_down(&mut self, replica: usize) {
        self.replicas[replica].standing.down_until = Some(Instant::now() + self.down_for);
        self.publish();
    }

    /// Ends pair `id` from the replica side: the client's connection is closing
    /// and its disconnect will find no pair.
    fn unpair_client(&mut self, id: u64) {
        if let Some(pair) = self.pairs.get(&id)
            && self.by_client.get(&pair.client) == Some(&id)
        {
            let client = pair.client.clone();
            self.by_client.remove(&client);
        }
        self.unpair(id);
    }

    fn unpair(&mut self, id: u64) {
        if let Some(pair) = self.pairs.remove(&id) {
            self.replicas[pair.replica].standing.clients -= 1;
            self.stalled.remove(&id);
            self.publish();
        }
    }

    /// Moves what pair `id` holds as far as its links take it.
    fn pump(&mut self, id: u64) {
        let Some(pair) = self.pairs.get_mut(&id) else {
            return;
        };
        let mut done = pair.to_client.pump(&pair.client_link);
        if let Some(link) = &pair.replica_link {
            done &= pair.to_replica.pump(link);
        }
        if done {
            self.stalled.remove(&id);
        } else {
            self.stalled.insert(id);
        }
    }

    fn pump_stalled(&mut self) {
        for id in self.stalled.clone() {
            self.pump(id);
        }
    }

    /// Makes the replicas' state visible to [`super::Broker::replicas`].
    fn publish(&self) {
        let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
        for (s, r) in status.iter_mut().zip(&self.replicas) {
            *s = r.standing;
        }
    }
}

/// Answers each WORK among `messages` (wire frames: delimiter, version, id, type,
/// body) with `ServiceUnavailableError`; other messages need no answer.
fn refuse(link: &Link, messages: impl IntoIterator<Item = Vec<Bytes>>) {
    let fault = Fault::new(
        SERVICE_UNAVAILABLE,
        "no replica behind the broker is reachable now; try again shortly",
    );
    let body = error_body(&fault);
    let error = [MessageType::Error.byte()];
    let mut flush = false;
    for message in messages {
        let is_work = message.len() == 5 && message[3][..] == [MessageType::Work.byte()];
        if !is_work {
            continue;
        }
        match link.send(&[&[], VERSION, &message[2], &error, &body]) {
            (Sent::Ok, first) => flush |= first,
            (Sent::WouldBlock, _) => {
                tracing::warn!(
                    "a client reads nothing; a refusal could not be sent (its call times out)"
                );
            }
            (Sent::Unreachable, _) => {}
        }
    }
    if flush {
        link.flush();
    }
}
