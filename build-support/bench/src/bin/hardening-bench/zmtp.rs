//! A raw, blocking ZMTP 3.1 DEALER written by hand on `std::net::TcpStream`:
//! the NULL handshake, frames, and pseud messages as a DEALER sends them
//! (`["", "v1", id, type, body]`: docs/protocol.md, "A DEALER peer"; framing
//! as in `crates/pseud/src/zmtp/frame.rs`, written anew here).
//!
//! Both scenarios need a peer the pseud client cannot be: one that never reads
//! (slow-consumer), and one that sends a message whose bytes we chose exactly
//! (amplification). Nothing here is shared with the engine under test, so a bug
//! in its framing cannot hide itself.

use std::io::{self, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::Res;

use cara_bench::{COMMAND, LONG, MORE, greeting, push_command, push_frame, ready_properties};

/// pseud type bytes (protocol.md, "Type bytes").
pub const WORK: u8 = 0x03;
/// A successful reply.
pub const OK: u8 = 0x01;
/// A failed call: body msgpack `[class, message, traceback]`.
pub const ERROR: u8 = 0x10;

/// Largest frame this client accepts from the server (a reply to a 16 MiB
/// echo is about that big).
const MAX_FRAME: u64 = 64 * 1024 * 1024;

/// Appends one pseud message as a DEALER sends it: `["", "v1", id, kind, body]`.
pub fn push_message(out: &mut Vec<u8>, id: &[u8; 16], kind: u8, body: &[u8]) {
    push_frame(out, MORE, b"");
    push_frame(out, MORE, b"v1");
    push_frame(out, MORE, id);
    push_frame(out, MORE, &[kind]);
    push_frame(out, 0, body);
}

/// A connected, handshaken DEALER.
pub struct Dealer {
    /// The socket (reads go through `reader`, writes straight to it).
    pub stream: TcpStream,
    reader: BufReader<TcpStream>,
}

/// What one read of a reply gave.
pub enum Reply {
    /// A whole pseud message: `(type byte, id, body)`.
    Message(u8, Vec<u8>, Vec<u8>),
    /// Nothing by the deadline.
    TimedOut,
    /// The server closed the connection (or reset it).
    Closed(String),
}

impl Dealer {
    /// Connects to `addr` and runs the NULL handshake (greeting, READY with
    /// `Socket-Type: DEALER`, then the server's greeting and READY).
    /// `recv_buffer` sets SO_RCVBUF before connecting (so that the TCP window
    /// is negotiated small): how a peer that reads little keeps little buffered.
    pub fn connect(addr: SocketAddr, recv_buffer: Option<usize>) -> Res<Dealer> {
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(addr),
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )?;
        if let Some(size) = recv_buffer {
            socket.set_recv_buffer_size(size)?;
        }
        socket.connect_timeout(&addr.into(), Duration::from_secs(5))?;
        socket.set_tcp_nodelay(true)?;
        let stream: TcpStream = socket.into();
        // The handshake is small and the server answers at once.
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.set_write_timeout(Some(Duration::from_secs(5)))?;
        let mut hello = greeting().to_vec();
        push_command(&mut hello, "READY", &ready_properties("DEALER"));
        (&stream).write_all(&hello)?;
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut theirs = [0u8; 64];
        reader.read_exact(&mut theirs)?;
        if theirs[0] != 0xff || theirs[9] & 1 != 1 || theirs[10] < 3 || &theirs[12..17] != b"NULL\0"
        {
            return Err("the server's greeting is not ZMTP 3 with NULL security".into());
        }
        let (flags, body) = read_frame(&mut reader)?;
        if flags & COMMAND == 0 || !body.starts_with(b"\x05READY") {
            return Err("the server did not send READY".into());
        }
        Ok(Dealer { stream, reader })
    }

    /// Writes bytes already framed (one or many messages) in full.
    pub fn write_all(&self, bytes: &[u8]) -> io::Result<()> {
        (&self.stream).write_all(bytes)
    }

    /// Reads the next pseud message, answering the server's PINGs meanwhile
    /// (its heartbeat drops a connection silent for 5 s), until `deadline`.
    pub fn read_reply(&mut self, deadline: Instant) -> Reply {
        let mut frames: Vec<Vec<u8>> = Vec::with_capacity(5);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Reply::TimedOut;
            }
            if let Err(e) = self.stream.set_read_timeout(Some(left)) {
                return Reply::Closed(e.to_string());
            }
            let (flags, body) = match read_frame(&mut self.reader) {
                Ok(frame) => frame,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Reply::TimedOut;
                }
                Err(e) => return Reply::Closed(e.to_string()),
            };
            if flags & COMMAND != 0 {
                if body.starts_with(b"\x04PING") {
                    // PONG echoes the context after the 2-byte TTL.
                    let context = body.get(7..).unwrap_or_default();
                    let mut pong = Vec::new();
                    push_command(&mut pong, "PONG", &context[..context.len().min(16)]);
                    if let Err(e) = self.write_all(&pong) {
                        return Reply::Closed(e.to_string());
                    }
                }
                continue;
            }
            frames.push(body);
            if flags & MORE == 0 {
                // ["", "v1", id, type, body]
                let mut it = std::mem::take(&mut frames).into_iter();
                return match (it.next(), it.next(), it.next(), it.next(), it.next()) {
                    (Some(_), Some(v), Some(id), Some(kind), Some(body))
                        if v == b"v1" && kind.len() == 1 =>
                    {
                        Reply::Message(kind[0], id, body)
                    }
                    _ => Reply::Closed("a reply that is not a pseud message".into()),
                };
            }
        }
    }
}

/// Reads one frame (flags, body).
fn read_frame(r: &mut impl Read) -> io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 2];
    r.read_exact(&mut head)?;
    let flags = head[0];
    let size = if flags & LONG != 0 {
        let mut rest = [0u8; 7];
        r.read_exact(&mut rest)?;
        let mut be = [0u8; 8];
        be[0] = head[1];
        be[1..].copy_from_slice(&rest);
        u64::from_be_bytes(be)
    } else {
        u64::from(head[1])
    };
    if size > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a {size}-byte frame"),
        ));
    }
    let mut body = vec![0u8; size as usize];
    r.read_exact(&mut body)?;
    Ok((flags, body))
}
