//! One connection after its handshake: the [`Link`] the socket task writes
//! through, and the connection task that reads, keeps the link alive with ZMTP
//! heartbeats, and finishes writes the kernel did not take at once.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::time::Instant;

use super::ZmtpError;
use super::curve::CurveCodec;
use super::frame::{self, COMMAND, MORE, command, encode_frame, parse_command};
use super::router::Incoming;
use super::transport::Stream;

/// How long a closing connection keeps writing what is queued (libzmq's linger).
const LINGER: Duration = Duration::from_secs(2);

/// Result of a non-blocking send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    /// Written or queued.
    Ok,
    /// The peer's queue is full (high-water mark); try again when told.
    WouldBlock,
    /// The connection is gone.
    Unreachable,
}

/// The write side of a connection, shared by the socket task and the connection task.
pub(crate) struct Link {
    stream: Arc<Stream>,
    state: Mutex<WriteState>,
    /// Wakes the connection task: bytes wait, or the link is to close.
    wake: Notify,
    closed: AtomicBool,
    /// Messages were queued since the socket task last flushed this link.
    dirty: AtomicBool,
    /// Tells the socket task that a full link has room again.
    room: Arc<Notify>,
    /// Bytes that may be queued before sends would block (the high-water mark).
    high_water: usize,
    /// How long the peer may take no bytes while some wait for it.
    write_timeout: Duration,
}

#[derive(Default)]
struct WriteState {
    /// Encoded bytes not yet written; `written` of them are.
    queued: Vec<u8>,
    written: usize,
    /// The connection task owns the writing until `queued` is empty.
    handed_over: bool,
    /// A send was refused for lack of room: say when there is room again.
    refused: bool,
    codec: Option<CurveCodec>,
    /// CURVE's plaintext scratch, reused.
    scratch: Vec<u8>,
}

impl WriteState {
    fn pending(&self) -> usize {
        self.queued.len() - self.written
    }

    /// Appends a frame (a MESSAGE command under CURVE).
    fn push_frame(&mut self, flags: u8, body: &[u8]) {
        match &mut self.codec {
            None => encode_frame(&mut self.queued, flags, body),
            Some(codec) => {
                self.scratch.clear();
                codec.encode(flags, body, &mut self.scratch);
                // Flags 0: libzmq ORs the carrying frame's MORE and COMMAND into
                // the frame it decrypts (see `CurveCodec`).
                encode_frame(&mut self.queued, 0, &self.scratch);
            }
        }
    }

    /// Writes what the kernel takes now.
    fn write_now(&mut self, stream: &Stream) -> io::Result<Written> {
        let before = self.written;
        while self.pending() > 0 {
            match stream.try_write(&self.queued[self.written..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Ok(Written::Partly {
                        progressed: self.written > before,
                    });
                }
                Err(e) => return Err(e),
            }
        }
        self.queued.clear();
        self.written = 0;
        Ok(Written::All)
    }
}

/// What one attempt to write gave.
enum Written {
    /// Everything queued is written.
    All,
    /// The kernel took no more; some bytes were written this time, or none.
    Partly { progressed: bool },
}

impl Link {
    fn new(
        stream: Arc<Stream>,
        codec: Option<CurveCodec>,
        room: Arc<Notify>,
        params: &Params,
    ) -> Self {
        Link {
            stream,
            state: Mutex::new(WriteState {
                codec,
                ..WriteState::default()
            }),
            wake: Notify::new(),
            closed: AtomicBool::new(false),
            dirty: AtomicBool::new(false),
            room,
            high_water: params.max_queued,
            write_timeout: params.write_timeout,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WriteState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues one multipart message without waiting; [`Link::flush`] writes it.
    /// `Sent::Ok` with `first` set means the link was clean: the caller must
    /// flush it (once) after queueing the rest of its messages, so that they
    /// go out in one write.
    pub(crate) fn send(&self, frames: &[&[u8]]) -> (Sent, bool) {
        if self.closed.load(Ordering::Acquire) {
            return (Sent::Unreachable, false);
        }
        let mut state = self.lock();
        if state.pending() >= self.high_water {
            state.refused = true;
            return (Sent::WouldBlock, false);
        }
        for (i, f) in frames.iter().enumerate() {
            let flags = if i + 1 < frames.len() { MORE } else { 0 };
            state.push_frame(flags, f);
        }
        (Sent::Ok, !self.dirty.swap(true, Ordering::AcqRel))
    }

    /// Writes what [`Link::send`] queued.
    pub(crate) fn flush(&self) {
        self.dirty.store(false, Ordering::Release);
        let mut state = self.lock();
        self.kick(&mut state);
    }

    /// Sends a command (PING, PONG).
    fn send_command(&self, body: &[u8]) {
        let mut state = self.lock();
        state.push_frame(COMMAND, body);
        self.kick(&mut state);
    }

    /// Writes at once if the connection task is not already writing; hands the
    /// rest over to it.
    fn kick(&self, state: &mut WriteState) {
        if state.handed_over {
            return;
        }
        match state.write_now(&self.stream) {
            Ok(Written::All) => {}
            Ok(Written::Partly { .. }) => {
                state.handed_over = true;
                self.wake.notify_one();
            }
            Err(e) => {
                tracing::debug!(error = %e, "write failed; closing the connection");
                self.close();
            }
        }
    }

    /// Bytes wait that the kernel would not take (the connection task writes them).
    fn backed_up(&self) -> bool {
        self.lock().handed_over
    }

    /// Closes the connection (its task ends and reports the disconnect).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// The connection task's part: write what was handed over. Meanwhile the
    /// connection reads nothing, so a peer that does not read what it is sent
    /// cannot send more either; one that takes no bytes for the write timeout
    /// is dropped.
    async fn finish_writes(&self) -> Result<(), ZmtpError> {
        let mut deadline = Instant::now() + self.write_timeout;
        loop {
            {
                let mut state = self.lock();
                if !state.handed_over {
                    return Ok(());
                }
                match state.write_now(&self.stream)? {
                    Written::All => {
                        state.handed_over = false;
                        if std::mem::take(&mut state.refused) {
                            self.room.notify_one();
                        }
                        return Ok(());
                    }
                    Written::Partly { progressed: true } => {
                        deadline = Instant::now() + self.write_timeout;
                    }
                    Written::Partly { progressed: false } => {}
                }
            }
            let stalled = ZmtpError::Stalled {
                timeout: self.write_timeout,
            };
            match tokio::time::timeout_at(deadline, self.stream.writable()).await {
                Ok(ready) => ready?,
                Err(_) => {
                    let queued = self.lock().pending();
                    tracing::warn!(queued, timeout = ?self.write_timeout, "the peer reads nothing of what it is sent; dropping the connection");
                    return Err(stalled);
                }
            }
        }
    }
}

/// What a connection task needs besides its stream.
pub(crate) struct Params {
    pub routing_id: Arc<[u8]>,
    pub minor: u8,
    pub heartbeat: Option<(Duration, Duration)>,
    pub max_frame: usize,
    pub max_message: usize,
    pub max_queued: usize,
    pub write_timeout: Duration,
    pub endpoint: Arc<str>,
    pub conn: u64,
    /// What the handshake established: the peer's user id, and CURVE's codec
    /// halves (writer, reader).
    pub user_id: Vec<u8>,
    pub codec: Option<(CurveCodec, CurveCodec)>,
}

/// How a connection reaches its socket.
pub(crate) struct Wiring {
    /// Signalled when a full link has room again.
    pub room: Arc<Notify>,
    pub tx: mpsc::UnboundedSender<Incoming>,
    pub shutdown: watch::Receiver<bool>,
}

/// Runs an established connection until it closes, then reports the disconnect.
pub(crate) async fn run(
    stream: Arc<Stream>,
    mut buf: BytesMut,
    mut params: Params,
    wiring: Wiring,
) {
    let Wiring {
        room,
        tx,
        mut shutdown,
    } = wiring;
    let (write_codec, mut read_codec) = match params.codec.take() {
        Some((w, r)) => (Some(w), Some(r)),
        None => (None, None),
    };
    let link = Arc::new(Link::new(stream.clone(), write_codec, room, &params));
    let connected = Incoming::Connected {
        routing_id: params.routing_id.clone(),
        user_id: std::mem::take(&mut params.user_id),
        link: link.clone(),
        endpoint: params.endpoint.clone(),
        conn: params.conn,
    };
    if tx.send(connected).is_err() {
        return;
    }
    let mut reader = Reader {
        frames: Vec::with_capacity(6),
        size: 0,
        batch: Vec::new(),
        params: &params,
        credit: Arc::new(Semaphore::new(CREDIT)),
    };
    let result = async {
        let heartbeat = params.heartbeat.filter(|_| params.minor >= 1);
        let mut last_heard = Instant::now();
        let mut tick = tokio::time::interval(heartbeat.map_or(Duration::from_secs(3600), |h| h.0));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        // Bytes read with the handshake's last command are messages already.
        reader.drain(&mut buf, &mut read_codec, &link, &tx).await?;
        loop {
            if link.closed.load(Ordering::Acquire) || *shutdown.borrow() {
                return Ok(());
            }
            if link.backed_up() {
                // The peer does not take what we write: read nothing more from it
                // until it does (or the write timeout drops it). Reading on would
                // serve a peer that never reads its replies at everyone's expense.
                link.finish_writes().await?;
                continue;
            }
            tokio::select! {
                biased;
                ready = stream.readable() => {
                    ready?;
                    if buf.capacity() - buf.len() < 4096 {
                        buf.reserve(64 * 1024);
                    }
                    match stream.try_read_buf(&mut buf) {
                        Ok(0) => return Err(ZmtpError::Closed),
                        Ok(_) => {
                            last_heard = Instant::now();
                            reader.drain(&mut buf, &mut read_codec, &link, &tx).await?;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                () = link.wake.notified() => link.finish_writes().await?,
                _ = tick.tick(), if heartbeat.is_some() => {
                    let (_, timeout) = heartbeat.unwrap_or_default();
                    if last_heard.elapsed() > timeout {
                        return Err(ZmtpError::Protocol("heartbeat timed out".into()));
                    }
                    // TTL in deciseconds: the peer may drop us after that much silence.
                    let ttl = u16::try_from(timeout.as_millis() / 100).unwrap_or(u16::MAX);
                    link.send_command(&command("PING", &ttl.to_be_bytes()));
                }
                _ = shutdown.changed() => {}
            }
        }
    }
    .await;
    match &result {
        Ok(()) | Err(ZmtpError::Closed) => {
            tracing::debug!(endpoint = %params.endpoint, "connection closed")
        }
        Err(e) => tracing::info!(endpoint = %params.endpoint, error = %e, "connection dropped"),
    }
    // Whatever the socket task queued before the end still goes out, within
    // linger (not to a peer dropped for not reading).
    let stalled = matches!(result, Err(ZmtpError::Stalled { .. }));
    if !stalled && (!link.closed.load(Ordering::Acquire) || *shutdown.borrow()) {
        let _ = tokio::time::timeout(LINGER, link.finish_writes()).await;
    }
    link.closed.store(true, Ordering::Release);
    let _ = tx.send(Incoming::Disconnected {
        routing_id: params.routing_id.clone(),
        conn: params.conn,
        endpoint: params.endpoint.clone(),
    });
}

/// Messages handed to the socket task in one item at most: one channel send (and
/// at most one wake-up) per read, not per message, bounded so that one busy peer
/// cannot hold many messages in one item.
const BATCH: usize = 128;
/// Items of one connection the socket task may have waiting: a peer that sends
/// faster than it is served waits for its own earlier messages, and others'
/// messages never queue behind more than this many of its batches.
const CREDIT: usize = 2;

/// Assembles messages from frames.
struct Reader<'a> {
    frames: Vec<Bytes>,
    size: usize,
    /// Whole messages not yet handed over.
    batch: Vec<Vec<Bytes>>,
    params: &'a Params,
    /// Permits for items waiting at the socket task (see [`CREDIT`]).
    credit: Arc<Semaphore>,
}

impl Reader<'_> {
    async fn drain(
        &mut self,
        buf: &mut BytesMut,
        codec: &mut Option<CurveCodec>,
        link: &Link,
        tx: &mpsc::UnboundedSender<Incoming>,
    ) -> Result<(), ZmtpError> {
        while let Some((flags, body)) = frame::decode_frame(buf, self.params.max_frame)? {
            let (flags, body) = match codec {
                // Every frame is a MESSAGE; its own flags are inside the box.
                Some(codec) => {
                    let (inner, body) = codec.decode(&body)?;
                    (inner | (flags & (MORE | COMMAND)), Bytes::from(body))
                }
                None => (flags, body),
            };
            if flags & COMMAND != 0 {
                self.on_command(&body, link)?;
                continue;
            }
            self.size += body.len();
            if self.size > self.params.max_message {
                return Err(ZmtpError::TooLarge {
                    size: self.size as u64,
                    limit: self.params.max_message,
                });
            }
            self.frames.push(body);
            if flags & MORE == 0 {
                self.size = 0;
                let message = std::mem::replace(&mut self.frames, Vec::with_capacity(6));
                self.batch.push(message);
                if self.batch.len() >= BATCH {
                    self.hand_over(tx).await?;
                }
            }
        }
        self.hand_over(tx).await
    }

    /// Sends the whole messages read so far to the socket task.
    async fn hand_over(&mut self, tx: &mpsc::UnboundedSender<Incoming>) -> Result<(), ZmtpError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        // Waiting for credit holds this connection back (and only this one).
        let credit: OwnedSemaphorePermit = self
            .credit
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ZmtpError::Closed)?;
        let messages = Incoming::Messages {
            routing_id: self.params.routing_id.clone(),
            messages: std::mem::take(&mut self.batch),
            credit,
        };
        tx.send(messages).map_err(|_| ZmtpError::Closed)
    }

    fn on_command(&self, body: &[u8], link: &Link) -> Result<(), ZmtpError> {
        let (name, data) = parse_command(body)?;
        match name {
            b"PING" => {
                // PONG echoes the context after the 2-byte TTL.
                let context = data.get(2..).unwrap_or_default();
                link.send_command(&command("PONG", &context[..context.len().min(16)]));
                Ok(())
            }
            b"PONG" => Ok(()),
            b"ERROR" => Err(ZmtpError::Refused(frame::error_reason(data))),
            other => {
                tracing::debug!(command = %String::from_utf8_lossy(other), "unknown ZMTP command ignored");
                Ok(())
            }
        }
    }
}
