//! CURVE against real libzmq: pyzmq peers (`build-support/interop/curve_echo.py`)
//! over TCP on 127.0.0.1, with a tiny test-local ZMTP 3.1 framing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use super::*;
use crate::keys::KeyPair;

const MORE: u8 = 0x01;
const LONG: u8 = 0x02;
const COMMAND: u8 = 0x04;
const TIMEOUT: Duration = Duration::from_secs(15);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python with pyzmq: `CARA_PYTHON`, else the repository's interop venv (what
/// `build-support/interop/setup-venv.sh` makes). Fails, never skips, without one.
fn python() -> PathBuf {
    let mut tried = Vec::new();
    let candidates = std::env::var_os("CARA_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([repo_root().join("target/interop-venv/bin/python")]);
    for python in candidates {
        let check = Command::new(&python)
            .args([
                "-c",
                "import sys, zmq; sys.exit(0 if zmq.has('curve') else 3)",
            ])
            .stderr(Stdio::null())
            .status();
        match check {
            Ok(status) if status.success() => return python,
            Ok(status) => tried.push(format!("{} ({status})", python.display())),
            Err(e) => tried.push(format!("{} ({e})", python.display())),
        }
    }
    panic!(
        "the CURVE interop tests need a Python whose pyzmq has CURVE (pyzmq's wheels \
         bundle libzmq 4.3.5 with it). Run `build-support/interop/setup-venv.sh` and set \
         CARA_PYTHON to the path it prints, or `python3 -m venv DIR && DIR/bin/pip install \
         pyzmq` and CARA_PYTHON=DIR/bin/python. Tried: {}",
        tried.join("; ")
    );
}

/// A running `curve_echo.py`, killed when dropped.
struct Peer {
    child: Child,
    stdout: BufReader<ChildStdout>,
    /// Kept open: the server mode exits when its stdin closes.
    _stdin: Option<ChildStdin>,
}

impl Peer {
    fn start(args: &[&str]) -> Peer {
        let script = repo_root().join("build-support/interop/curve_echo.py");
        let mut child = Command::new(python())
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let stdin = child.stdin.take();
        Peer {
            child,
            stdout,
            _stdin: stdin,
        }
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "curve_echo.py ended without output");
        line.trim_end().to_string()
    }

    /// Waits for the peer to end; its exit status.
    fn wait(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "curve_echo.py did not end");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends our ZMTP 3.1 greeting for mechanism CURVE and checks the peer's;
/// returns the peer's as-server flag, which libzmq 4.3 leaves 0 on both sides
/// (`receive_greeting_versioned` zeroes the 32 bytes after the mechanism): a
/// CURVE peer's role comes from its configuration, never from this byte.
fn greet(stream: &mut TcpStream, as_server: bool) -> bool {
    let mut ours = [0u8; 64];
    ours[0] = 0xFF;
    ours[9] = 0x7F;
    ours[10] = 3;
    ours[11] = 1;
    ours[12..17].copy_from_slice(b"CURVE");
    ours[32] = u8::from(as_server);
    stream.write_all(&ours).unwrap();
    let mut theirs = [0u8; 64];
    stream.read_exact(&mut theirs).unwrap();
    assert_eq!(
        (theirs[0], theirs[9] & 1, theirs[10]),
        (0xFF, 1, 3),
        "{theirs:02x?}"
    );
    assert_eq!(&theirs[12..32], &ours[12..32], "the peer's mechanism");
    theirs[32] == 1
}

fn write_frame(stream: &mut TcpStream, flags: u8, body: &[u8]) {
    let mut frame = Vec::with_capacity(9 + body.len());
    if body.len() > 255 {
        frame.push(flags | LONG);
        frame.extend_from_slice(&(body.len() as u64).to_be_bytes());
    } else {
        frame.extend_from_slice(&[flags, body.len() as u8]);
    }
    frame.extend_from_slice(body);
    stream.write_all(&frame).unwrap();
}

/// One frame: its flags without LONG, and its body.
fn read_frame(stream: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut flags = [0u8; 1];
    stream.read_exact(&mut flags).unwrap();
    let len = if flags[0] & LONG != 0 {
        let mut len = [0u8; 8];
        stream.read_exact(&mut len).unwrap();
        u64::from_be_bytes(len) as usize
    } else {
        let mut len = [0u8; 1];
        stream.read_exact(&mut len).unwrap();
        usize::from(len[0])
    };
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).unwrap();
    (flags[0] & !LONG, body)
}

fn read_command(stream: &mut TcpStream) -> Vec<u8> {
    let (flags, body) = read_frame(stream);
    assert_eq!(flags, COMMAND, "handshake commands come in command frames");
    body
}

/// Sends one multipart message, each part a MESSAGE in a frame of its own.
fn send_message(stream: &mut TcpStream, codec: &mut CurveCodec, parts: &[&[u8]]) {
    for (i, part) in parts.iter().enumerate() {
        let more = if i + 1 < parts.len() { MORE } else { 0 };
        let mut message = Vec::new();
        codec.encode(more, part, &mut message);
        // As libzmq sends them: in frames with neither MORE nor COMMAND.
        write_frame(stream, 0, &message);
    }
}

/// Reads MESSAGEs until a frame without MORE; with their inner flags.
fn receive_message(stream: &mut TcpStream, codec: &mut CurveCodec) -> Vec<(u8, Vec<u8>)> {
    let mut parts = Vec::new();
    loop {
        let (outer, message) = read_frame(stream);
        // libzmq 4.3 puts each MESSAGE in a plain final frame (flags 0).
        assert_eq!(outer, 0, "outer flags of a MESSAGE frame from libzmq");
        let (flags, body) = codec.decode(&message).unwrap();
        let more = flags & MORE != 0;
        parts.push((flags, body));
        if !more {
            return parts;
        }
    }
}

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream
}

fn start_server(server: &KeyPair, allow: Option<&KeyPair>) -> (Peer, u16) {
    // `--name=KEY`: a Z85 key may start with `-`, which argparse would take for an option.
    let secret = format!("--secret={}", server.secret.to_z85());
    let mut args = vec!["server", &secret];
    let allowed = allow.map(|k| format!("--allow={}", k.public.to_z85()));
    if let Some(allowed) = &allowed {
        args.push(allowed);
    }
    let mut peer = Peer::start(&args);
    let line = peer.line();
    let port = line
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("curve_echo.py said {line:?}"));
    (peer, port)
}

/// Our client's handshake with a libzmq server, up to READY (or ERROR).
fn client_handshake(
    stream: &mut TcpStream,
    server: &KeyPair,
    client: &KeyPair,
) -> Result<(Metadata, CurveCodec), CurveError> {
    assert!(!greet(stream, false), "libzmq 4.3 never sets as-server");
    let mut curve = CurveClient::new(&server.public, client);
    write_frame(stream, COMMAND, &curve.hello());
    let welcome = read_command(stream);
    let initiate = curve.on_welcome(&welcome, &[("Socket-Type", b"DEALER"), ("Identity", b"")])?;
    write_frame(stream, COMMAND, &initiate);
    curve.on_ready(&read_command(stream))
}

#[test]
fn rust_client_with_pyzmq_server() {
    let (server, client) = (KeyPair::generate(), KeyPair::generate());
    let (_peer, port) = start_server(&server, None);
    let mut stream = connect(port);
    let (metadata, mut codec) = client_handshake(&mut stream, &server, &client).unwrap();
    let socket_type = metadata.iter().find(|(name, _)| name == "Socket-Type");
    assert_eq!(socket_type.map(|(_, v)| v.as_slice()), Some(&b"ROUTER"[..]));

    // A ZMTP 3.1 PING, encrypted with the COMMAND flag: libzmq answers PONG
    // (TTL 0, context "ctx"), which proves the inner flag byte both ways.
    let mut ping = Vec::new();
    codec.encode(COMMAND, b"\x04PING\x00\x00ctx", &mut ping);
    write_frame(&mut stream, 0, &ping);
    let pong = receive_message(&mut stream, &mut codec);
    assert_eq!(pong, [(COMMAND, b"\x04PONGctx".to_vec())]);

    let big = vec![7u8; 300];
    send_message(&mut stream, &mut codec, &[b"hello", &big, b""]);
    let echo = receive_message(&mut stream, &mut codec);
    let key = client.public.to_z85().into_bytes();
    let expected = [
        (MORE, b"hello".to_vec()),
        (MORE, big.clone()),
        (MORE, Vec::new()),
        (0, key),
    ];
    assert_eq!(echo, expected, "the echo, with the key libzmq gave ZAP");

    // And a second round, for the nonces that follow.
    send_message(&mut stream, &mut codec, &[b"again"]);
    let echo = receive_message(&mut stream, &mut codec);
    assert_eq!(echo[0], (MORE, b"again".to_vec()));
}

#[test]
fn rust_client_refused_by_pyzmq_zap() {
    let (server, client, allowed) = (
        KeyPair::generate(),
        KeyPair::generate(),
        KeyPair::generate(),
    );
    let (_peer, port) = start_server(&server, Some(&allowed));
    let mut stream = connect(port);
    match client_handshake(&mut stream, &server, &client) {
        Err(CurveError::Refused(reason)) => assert_eq!(reason, "400"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a client ZAP refuses got in"),
    }
}

#[test]
fn rust_client_with_wrong_server_key_gets_nothing() {
    let (server, client) = (KeyPair::generate(), KeyPair::generate());
    let (_peer, port) = start_server(&server, None);
    let mut stream = connect(port);
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    greet(&mut stream, false);
    // libzmq cannot open a HELLO for another key: it drops the connection.
    let mut curve = CurveClient::new(&KeyPair::generate().public, &client);
    write_frame(&mut stream, COMMAND, &curve.hello());
    let mut byte = [0u8; 1];
    assert!(matches!(stream.read(&mut byte), Ok(0) | Err(_)));
}

fn accept(listener: &TcpListener, peer: &mut Peer) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                stream.set_read_timeout(Some(TIMEOUT)).unwrap();
                return stream;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Some(status) = peer.child.try_wait().unwrap() {
                    panic!("curve_echo.py client ended ({status}) before connecting");
                }
                assert!(Instant::now() < deadline, "curve_echo.py never connected");
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("{e}"),
        }
    }
}

fn start_client(port: u16, server_public: &str, client: &KeyPair, frames: &[&[u8]]) -> Peer {
    let port = port.to_string();
    // `--name=KEY`: a Z85 key may start with `-`, which argparse would take for an option.
    let server_public = format!("--server-public={server_public}");
    let public = format!("--public={}", client.public.to_z85());
    let secret = format!("--secret={}", client.secret.to_z85());
    let mut args = vec![
        "client",
        "--port",
        &port,
        &server_public,
        &public,
        &secret,
        "--identity",
        "py-dealer",
    ];
    let hex: Vec<String> = frames
        .iter()
        .map(|f| f.iter().map(|b| format!("{b:02x}")).collect())
        .collect();
    for frame in &hex {
        args.extend(["--frame", frame]);
    }
    Peer::start(&args)
}

#[test]
fn pyzmq_client_with_rust_server() {
    let (server, client) = (KeyPair::generate(), KeyPair::generate());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let big = vec![0xABu8; 300];
    let mut peer = start_client(
        port,
        &server.public.to_z85(),
        &client,
        &[b"hello", &big, b""],
    );
    let mut stream = accept(&listener, &mut peer);
    assert!(!greet(&mut stream, true), "libzmq 4.3 never sets as-server");

    let mut curve = CurveServer::new(&server);
    let welcome = curve.on_hello(&read_command(&mut stream)).unwrap();
    write_frame(&mut stream, COMMAND, &welcome);
    let (key, metadata) = curve.on_initiate(&read_command(&mut stream)).unwrap();
    assert_eq!(
        key, client.public,
        "the client's long-term key, vouched for"
    );
    let expected: [(&str, &[u8]); 2] = [("Socket-Type", b"DEALER"), ("Identity", b"py-dealer")];
    for (name, value) in expected {
        assert!(
            metadata.iter().any(|(n, v)| n == name && v == value),
            "{name} in {metadata:?}"
        );
    }
    let (ready, mut codec) = curve.ready(&[("Socket-Type", b"ROUTER"), ("Identity", b"")]);
    write_frame(&mut stream, COMMAND, &ready);

    let got = receive_message(&mut stream, &mut codec);
    let bodies: Vec<&[u8]> = got.iter().map(|(_, b)| b.as_slice()).collect();
    assert_eq!(bodies, [&b"hello"[..], &big, b""]);
    send_message(&mut stream, &mut codec, &[b"echo", b"hello", &big, b""]);

    let line = peer.line();
    assert!(peer.wait().success());
    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let reply = serde_json::to_string(&[hex(b"echo"), hex(b"hello"), hex(&big), hex(b"")]);
    assert_eq!(line, format!("REPLY {}", reply.unwrap()));
}

#[test]
fn pyzmq_client_with_wrong_server_key_is_refused() {
    let (server, client) = (KeyPair::generate(), KeyPair::generate());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let other = KeyPair::generate().public.to_z85();
    let mut peer = start_client(port, &other, &client, &[b"x"]);
    let mut stream = accept(&listener, &mut peer);
    greet(&mut stream, true);
    let result = CurveServer::new(&server).on_hello(&read_command(&mut stream));
    assert!(matches!(result, Err(CurveError::Decrypt(_))), "{result:?}");
}
