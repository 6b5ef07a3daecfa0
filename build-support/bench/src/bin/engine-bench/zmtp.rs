//! A minimal native ZMTP 3.1 peer on tokio (RFC 23/37): the NULL mechanism, the
//! READY handshake, and multipart frames — just enough to exchange pseud messages
//! with libzmq ROUTER/DEALER sockets. An experiment for the engine decision, not a
//! transport: no security, no reconnects, no high-water marks.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use cara_bench::{COMMAND, LONG, MORE, greeting, push_command, ready_properties};

/// Exchanges greetings and READY commands; `socket_type` is ours (`DEALER`/`ROUTER`).
pub async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    socket_type: &str,
) -> io::Result<()> {
    stream.write_all(&greeting()).await?;
    stream.flush().await?;
    let mut theirs = [0u8; 64];
    stream.read_exact(&mut theirs).await?;
    if theirs[0] != 0xff || theirs[9] != 0x7f || theirs[10] < 3 || &theirs[12..16] != b"NULL" {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a ZMTP 3 NULL peer",
        ));
    }
    let mut ready = Vec::new();
    push_command(&mut ready, "READY", &ready_properties(socket_type));
    stream.write_all(&ready).await?;
    stream.flush().await?;
    let (flags, body) = read_frame(stream).await?;
    if flags & COMMAND == 0 || !body.starts_with(b"\x05READY") {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "expected READY"));
    }
    Ok(())
}

async fn write_frame<S: AsyncWrite + Unpin>(
    stream: &mut S,
    flags: u8,
    body: &[u8],
) -> io::Result<()> {
    if body.len() < 256 {
        stream.write_all(&[flags, body.len() as u8]).await?;
    } else {
        stream.write_all(&[flags | LONG]).await?;
        stream.write_all(&(body.len() as u64).to_be_bytes()).await?;
    }
    stream.write_all(body).await
}

async fn read_frame<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<(u8, Vec<u8>)> {
    let flags = stream.read_u8().await?;
    let size = if flags & LONG != 0 {
        stream.read_u64().await?
    } else {
        u64::from(stream.read_u8().await?)
    };
    if size > 1 << 24 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame over 16 MiB",
        ));
    }
    let mut body = vec![0; size as usize];
    stream.read_exact(&mut body).await?;
    Ok((flags, body))
}

/// Writes one multipart message (not flushed: the caller batches).
pub async fn write_message<S: AsyncWrite + Unpin>(
    stream: &mut S,
    frames: &[&[u8]],
) -> io::Result<()> {
    for (i, frame) in frames.iter().enumerate() {
        let more = if i + 1 < frames.len() { MORE } else { 0 };
        write_frame(stream, more, frame).await?;
    }
    Ok(())
}

/// Reads one multipart message. Commands (ZMTP heartbeats) are skipped: the peers
/// this experiment pairs with do not send them.
pub async fn read_message<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<Vec<Vec<u8>>> {
    let mut frames = Vec::with_capacity(5);
    loop {
        let (flags, body) = read_frame(stream).await?;
        if flags & COMMAND != 0 {
            continue;
        }
        frames.push(body);
        if flags & MORE == 0 {
            return Ok(frames);
        }
    }
}
