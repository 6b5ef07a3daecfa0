//! One connection after its handshake: the [`Link`] the socket task writes
//! through, and the connection task that reads, keeps the link alive with ZMTP
//! heartbeats, and finishes writes the kernel did not take at once.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;

use super::ZmtpError;
use super::curve::CurveCodec;
use super::frame::{self, COMMAND, MORE, command, encode_frame, parse_command};
use super::router::Incoming;
use super::transport::Stream;

/// Bytes a peer may have queued before sends to it would block (its high-water mark).
pub(crate) const HIGH_WATER: usize = 16 * 1024 * 1024;
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

    /// Writes what the kernel takes now; true once nothing is left.
    fn write_now(&mut self, stream: &Stream) -> io::Result<bool> {
        while self.pending() > 0 {
            match stream.try_write(&self.queued[self.written..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        self.queued.clear();
        self.written = 0;
        Ok(true)
    }
}

impl Link {
    fn new(stream: Arc<Stream>, codec: Option<CurveCodec>, room: Arc<Notify>) -> Self {
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
        if state.pending() >= HIGH_WATER {
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
            Ok(true) => {}
            Ok(false) => {
                state.handed_over = true;
                self.wake.notify_one();
            }
            Err(e) => {
                tracing::debug!(error = %e, "write failed; closing the connection");
                self.close();
            }
        }
    }

    /// Closes the connection (its task ends and reports the disconnect).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// The connection task's part: write what was handed over. True when done.
    async fn finish_writes(&self) -> io::Result<()> {
        loop {
            {
                let mut state = self.lock();
                if !state.handed_over {
                    return Ok(());
                }
                if state.write_now(&self.stream)? {
                    state.handed_over = false;
                    if std::mem::take(&mut state.refused) {
                        self.room.notify_one();
                    }
                    return Ok(());
                }
            }
            self.stream.writable().await?;
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
    pub tx: mpsc::Sender<Incoming>,
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
    let link = Arc::new(Link::new(stream.clone(), write_codec, room));
    let connected = Incoming::Connected {
        routing_id: params.routing_id.clone(),
        user_id: std::mem::take(&mut params.user_id),
        link: link.clone(),
        endpoint: params.endpoint.clone(),
        conn: params.conn,
    };
    if tx.send(connected).await.is_err() {
        return;
    }
    let mut reader = Reader {
        frames: Vec::with_capacity(6),
        size: 0,
        batch: Vec::new(),
        params: &params,
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
    // Whatever the socket task queued before the end still goes out, within linger.
    if !link.closed.load(Ordering::Acquire) || *shutdown.borrow() {
        let _ = tokio::time::timeout(LINGER, link.finish_writes()).await;
    }
    link.closed.store(true, Ordering::Release);
    let _ = tx
        .send(Incoming::Disconnected {
            routing_id: params.routing_id.clone(),
            conn: params.conn,
            endpoint: params.endpoint.clone(),
        })
        .await;
}

/// Messages handed to the socket task in one item at most: one channel send (and
/// at most one wake-up) per read, not per message, bounded so that one busy peer
/// cannot hold many messages in one item.
const BATCH: usize = 128;

/// Assembles messages from frames.
struct Reader<'a> {
    frames: Vec<Bytes>,
    size: usize,
    /// Whole messages not yet handed over.
    batch: Vec<Vec<Bytes>>,
    params: &'a Params,
}

impl Reader<'_> {
    async fn drain(
        &mut self,
        buf: &mut BytesMut,
        codec: &mut Option<CurveCodec>,
        link: &Link,
        tx: &mpsc::Sender<Incoming>,
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
    async fn hand_over(&mut self, tx: &mpsc::Sender<Incoming>) -> Result<(), ZmtpError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let messages = Incoming::Messages {
            routing_id: self.params.routing_id.clone(),
            messages: std::mem::take(&mut self.batch),
        };
        // A full channel holds this connection back (and only this one).
        tx.send(messages).await.map_err(|_| ZmtpError::Closed)
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
