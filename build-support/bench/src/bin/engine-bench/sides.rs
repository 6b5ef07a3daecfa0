//! The three engines, each as a server process and a client process: raw libzmq
//! (blocking `zmq` crate), pseud (this repository's transport), native (ZMTP on tokio).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::io::{AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};

use crate::zmtp;

pub type Res<T> = Result<T, String>;

/// Which engine a process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// libzmq ROUTER server / DEALER client, blocking.
    Raw,
    /// pseud `Server` / `Client` (`add(1, 2)` through the registry).
    Pseud,
    /// The native ZMTP 3.1 experiment on tokio.
    Native,
}

/// `add(1, 2)` as pseud WORK: `["add", [1, 2], {}]`.
const ADD_BODY: &[u8] = &[0x93, 0xa3, b'a', b'd', b'd', 0x92, 0x01, 0x02, 0x80];
const WORK: u8 = 0x03;
const OK: u8 = 0x01;

/// Serves until the process is killed; prints `ready <endpoint>` once listening.
pub fn serve(engine: Engine, endpoint: &str) -> Res<()> {
    match engine {
        Engine::Raw => serve_raw(endpoint),
        Engine::Pseud => runtime()?.block_on(serve_pseud(endpoint)),
        Engine::Native => runtime()?.block_on(serve_native(endpoint)),
    }
}

fn runtime() -> Res<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio: {e}"))
}

fn ready(endpoint: &str) {
    use std::io::Write;
    println!("ready {endpoint}");
    let _ = std::io::stdout().flush();
}

fn serve_raw(endpoint: &str) -> Res<()> {
    let ctx = zmq::Context::new();
    let router = ctx.socket(zmq::ROUTER).map_err(|e| e.to_string())?;
    router.set_identity(b"server").map_err(|e| e.to_string())?;
    router
        .bind(endpoint)
        .map_err(|e| format!("bind {endpoint}: {e}"))?;
    ready(endpoint);
    loop {
        let frames = router.recv_multipart(0).map_err(|e| e.to_string())?;
        if frames.len() != 6 {
            continue;
        }
        let reply: [&[u8]; 6] = [&frames[0], b"", b"v1", &frames[3], &[OK], &[0x03]];
        router.send_multipart(reply, 0).map_err(|e| e.to_string())?;
    }
}

async fn serve_pseud(endpoint: &str) -> Res<()> {
    let server = pseud::Server::builder("server")
        .bind(endpoint)
        .start()
        .map_err(|e| e.to_string())?;
    server
        .register("add", |a: i64, b: i64| a + b)
        .map_err(|e| e.to_string())?;
    ready(endpoint);
    std::future::pending::<()>().await;
    Ok(())
}

async fn serve_native(endpoint: &str) -> Res<()> {
    let addr = endpoint.trim_start_matches("tcp://");
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("bind {addr}: {e}"))?;
    ready(endpoint);
    loop {
        let (stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            match native_connection(stream).await {
                // The client is done: it closed the connection.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
                Err(e) => eprintln!("engine-bench: native connection: {e}"),
                Ok(()) => {}
            }
        });
    }
}

async fn native_connection(stream: TcpStream) -> std::io::Result<()> {
    let (r, w) = stream.into_split();
    let mut r = BufReader::new(r);
    let mut w = BufWriter::new(w);
    let mut both = tokio::io::join(&mut r, &mut w);
    zmtp::handshake(&mut both, "ROUTER").await?;
    loop {
        // A DEALER's message on the wire: ["", "v1", id, WORK, body].
        let frames = zmtp::read_message(&mut r).await?;
        if frames.len() == 5 {
            zmtp::write_message(&mut w, &[b"", b"v1", &frames[2], &[OK], &[0x03]]).await?;
        }
        // Flush once no further request is already buffered: replies to a burst go out together.
        if r.buffer().is_empty() {
            w.flush().await?;
        }
    }
}

/// Calls/s for `seq` sequential calls and `window` calls with 100 in flight.
pub fn call(engine: Engine, endpoint: &str, seq: usize, window: usize) -> Res<(f64, f64)> {
    match engine {
        Engine::Raw => call_raw(endpoint, seq, window),
        Engine::Pseud => runtime()?.block_on(call_pseud(endpoint, seq, window)),
        Engine::Native => runtime()?.block_on(call_native(endpoint, seq, window)),
    }
}

fn rate(n: usize, t: Duration) -> f64 {
    n as f64 / t.as_secs_f64().max(1e-9)
}

fn call_raw(endpoint: &str, seq: usize, window: usize) -> Res<(f64, f64)> {
    let ctx = zmq::Context::new();
    let d = ctx.socket(zmq::DEALER).map_err(|e| e.to_string())?;
    d.set_rcvtimeo(5000).map_err(|e| e.to_string())?;
    d.connect(endpoint).map_err(|e| e.to_string())?;
    let send = |i: u64| {
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&i.to_be_bytes());
        let frames: [&[u8]; 5] = [b"", b"v1", &id, &[WORK], ADD_BODY];
        d.send_multipart(frames, 0).map_err(|e| e.to_string())
    };
    let recv = || -> Res<()> {
        let f = d.recv_multipart(0).map_err(|e| format!("reply: {e}"))?;
        (f.len() == 5 && f[3] == [OK])
            .then_some(())
            .ok_or("bad reply".into())
    };
    let start = Instant::now();
    for i in 0..seq as u64 {
        send(i)?;
        recv()?;
    }
    let seq_rate = rate(seq, start.elapsed());
    let start = Instant::now();
    let (mut sent, mut got) = (0usize, 0usize);
    while got < window {
        while sent < window && sent - got < 100 {
            send(sent as u64)?;
            sent += 1;
        }
        recv()?;
        got += 1;
    }
    Ok((seq_rate, rate(window, start.elapsed())))
}

async fn call_pseud(endpoint: &str, seq: usize, window: usize) -> Res<(f64, f64)> {
    let client = pseud::Client::builder()
        .connect(endpoint)
        .map_err(|e| e.to_string())?;
    let remote = client.server().clone();
    let add = || {
        let r = remote.clone();
        async move {
            r.call::<i64>("add", (1, 2))
                .await
                .map_err(|e| e.to_string())
        }
    };
    let start = Instant::now();
    for _ in 0..seq {
        add().await?;
    }
    let seq_rate = rate(seq, start.elapsed());
    let start = Instant::now();
    let mut inflight = FuturesUnordered::new();
    let (mut sent, mut got) = (0usize, 0usize);
    while got < window {
        while sent < window && inflight.len() < 100 {
            inflight.push(add());
            sent += 1;
        }
        if let Some(r) = inflight.next().await {
            r?;
            got += 1;
        }
    }
    let window_rate = rate(window, start.elapsed());
    client.stop().await;
    Ok((seq_rate, window_rate))
}

async fn call_native(endpoint: &str, seq: usize, window: usize) -> Res<(f64, f64)> {
    let addr = endpoint.trim_start_matches("tcp://");
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let _ = stream.set_nodelay(true);
    let (r, w) = stream.into_split();
    let mut r = BufReader::new(r);
    let mut w = BufWriter::new(w);
    zmtp::handshake(&mut tokio::io::join(&mut r, &mut w), "DEALER")
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let io = |e: std::io::Error| e.to_string();
    let start = Instant::now();
    for i in 0..seq as u64 {
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&i.to_be_bytes());
        zmtp::write_message(&mut w, &[b"", b"v1", &id, &[WORK], ADD_BODY])
            .await
            .map_err(io)?;
        w.flush().await.map_err(io)?;
        let f = zmtp::read_message(&mut r).await.map_err(io)?;
        if f.len() != 5 || f[3] != [OK] {
            return Err("bad reply".into());
        }
    }
    let seq_rate = rate(seq, start.elapsed());
    // Windowed: a writer task keeps 100 requests outstanding; this task reads.
    let permits = Arc::new(tokio::sync::Semaphore::new(100));
    let writer = {
        let permits = permits.clone();
        tokio::spawn(async move {
            for i in 0..window as u64 {
                let Ok(p) = permits.acquire().await else {
                    break;
                };
                p.forget();
                let mut id = [0u8; 16];
                id[..8].copy_from_slice(&i.to_be_bytes());
                zmtp::write_message(&mut w, &[b"", b"v1", &id, &[WORK], ADD_BODY]).await?;
                if permits.available_permits() == 0 || i + 1 == window as u64 {
                    w.flush().await?;
                }
            }
            // Hand the write half back: dropping it would shut the connection's
            // sending side, and libzmq closes on that before answering the last calls.
            Ok::<_, std::io::Error>(w)
        })
    };
    let start = Instant::now();
    for _ in 0..window {
        let f = zmtp::read_message(&mut r).await.map_err(io)?;
        if f.len() != 5 || f[3] != [OK] {
            return Err("bad reply".into());
        }
        permits.add_permits(1);
    }
    let window_rate = rate(window, start.elapsed());
    let w = writer.await.map_err(|e| e.to_string())?.map_err(io)?;
    drop(w);
    Ok((seq_rate, window_rate))
}
