//! Fuzz targets of ZMTP framing and the handshake's command parsers (fuzzkit; see
//! docs/protocol.md, "Fuzzing"):
//! - `frames`: a byte stream as a connection reads it — the greeting, then frames
//!   under a frame size limit, each command parsed as the handshake and the
//!   connection parse it;
//! - `commands`: one command body (READY, INITIATE, HELLO, WELCOME, ERROR, PING, …).
//!
//! Properties: no panic; a stream fed in pieces decodes to the same frames, error and
//! leftover bytes as the whole stream; whatever decodes re-encodes to the same bytes.

use std::path::PathBuf;

use bytes::BytesMut;

use super::frame::{
    COMMAND, GREETING_LEN, LIBZMQ_PLAIN_ERROR, LONG, MORE, command, decode_frame, encode_frame,
    encode_message, encode_properties, error_command, error_reason, greeting, libzmq_plain_error,
    parse_command, parse_greeting, parse_properties, property,
};
use super::handshake::parse_plain_hello;

fn corpus(target: &str) -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "fuzz-corpus", target]
        .iter()
        .collect()
}

/// Frame size limits, picked by the low bits of a `frames` input's first byte: the
/// edges of the one-byte size, the default (twice the 16 MiB message limit) and the
/// largest a configuration can give (`max_message_size(usize::MAX)` saturates).
const MAX_FRAME: [usize; 8] = [
    64 * 1024,
    0,
    1,
    255,
    256,
    32 * 1024 * 1024,
    usize::MAX / 2,
    usize::MAX,
];

/// Command names the mutator splices in.
const NAMES: &[&[u8]] = &[
    b"\x05READY",
    b"\x08INITIATE",
    b"\x05HELLO",
    b"\x07WELCOME",
    b"\x05ERROR",
    b"\x04PING",
    b"\x04PONG",
    b"\x5eRROR",
    b"\x0bSocket-Type",
    b"\x08Identity",
    b"\x06ROUTER",
    b"\xff\xff\xff\xff",
];

/// What decoding a stream gave: its frames, then the error or the bytes left over.
#[derive(Debug, PartialEq)]
struct Decoded {
    frames: Vec<(u8, Vec<u8>)>,
    end: Result<Vec<u8>, String>,
}

/// Decodes `stream` as it arrives in pieces of the given sizes.
fn decode_stream(stream: &[u8], max: usize, mut pieces: impl FnMut() -> usize) -> Decoded {
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut fed = 0;
    loop {
        match decode_frame(&mut buf, max) {
            Ok(Some((flags, body))) => frames.push((flags, body.to_vec())),
            Ok(None) if fed == stream.len() => {
                return Decoded {
                    frames,
                    end: Ok(buf.to_vec()),
                };
            }
            Ok(None) => {
                let n = pieces().clamp(1, stream.len() - fed);
                buf.extend_from_slice(&stream[fed..fed + n]);
                fed += n;
            }
            Err(e) => {
                return Decoded {
                    frames,
                    end: Err(e.to_string()),
                };
            }
        }
    }
}

fn frames(input: &[u8]) {
    let Some((&config, mut stream)) = input.split_first() else {
        return;
    };
    let max = MAX_FRAME[usize::from(config & 7)];
    // A greeting's first byte, 0xff, is never a valid frame flag: a stream that
    // starts with one is a greeting and frames, as a connection reads it.
    if stream.first() == Some(&0xff)
        && let Some((g, rest)) = stream.split_first_chunk::<GREETING_LEN>()
    {
        check_greeting(g);
        stream = rest;
    }
    let whole = decode_stream(stream, max, || usize::MAX);
    // Pieces of 1 to 2^k bytes, k from the first byte's high bits.
    let mut state = u32::from(config) | 1;
    let span = 1usize << (config >> 5);
    let pieced = decode_stream(stream, max, || {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        1 + (state >> 16) as usize % span
    });
    assert_eq!(
        whole, pieced,
        "decoding in pieces of up to {span} bytes differs"
    );
    for (flags, body) in &whole.frames {
        assert_eq!(flags & !(MORE | LONG | COMMAND), 0);
        check_frame(*flags, body, max);
        if flags & COMMAND != 0 {
            check_command(body);
        }
    }
}

fn check_greeting(g: &[u8; GREETING_LEN]) {
    let Ok(parsed) = parse_greeting(g) else {
        return;
    };
    assert!(g[10] >= 3 && parsed.minor <= g[11].max(1));
    assert!(!parsed.mechanism.contains('\0'));
    if parsed.mechanism.is_ascii() {
        let ours = greeting(&parsed.mechanism, g[32] != 0);
        assert_eq!(
            parse_greeting(&ours).ok().map(|p| p.mechanism),
            Some(parsed.mechanism)
        );
    }
}

/// A decoded frame, encoded again, decodes to itself (LONG set exactly when needed).
fn check_frame(flags: u8, body: &[u8], max: usize) {
    let mut out = Vec::new();
    encode_frame(&mut out, flags & !LONG, body);
    let long = if body.len() > 255 { LONG } else { 0 };
    let mut buf = BytesMut::from(&out[..]);
    let again = decode_frame(&mut buf, max).map(|f| f.map(|(f, b)| (f, b.to_vec())));
    assert_eq!(
        again.ok(),
        Some(Some(((flags & !LONG) | long, body.to_vec())))
    );
    assert!(buf.is_empty());
}

/// A command body through every parser that may see it; what parses re-encodes.
fn check_command(body: &[u8]) {
    if let Some(data) = body.strip_prefix(LIBZMQ_PLAIN_ERROR) {
        let reason = error_reason(data);
        if reason.is_ascii() {
            let again = libzmq_plain_error(&reason);
            assert_eq!(error_reason(&again[LIBZMQ_PLAIN_ERROR.len()..]), reason);
        }
    }
    let Ok((name, data)) = parse_command(body) else {
        assert!(body.is_empty() || usize::from(body[0]) >= body.len());
        return;
    };
    if let Ok(name) = std::str::from_utf8(name) {
        assert_eq!(command(name, data), body);
    }
    match name {
        b"READY" | b"INITIATE" => check_properties(data),
        b"ERROR" => {
            let reason = error_reason(data);
            if !reason.contains('\u{fffd}') {
                let again = error_command(&reason);
                let (_, data) = parse_command(&again).unwrap();
                assert_eq!(error_reason(data), reason);
            }
        }
        b"HELLO" => {
            if let Ok((user, password)) = parse_plain_hello(data)
                && !user.contains('\u{fffd}')
            {
                let mut again = vec![user.len() as u8];
                again.extend_from_slice(user.as_bytes());
                again.push(password.len() as u8);
                again.extend_from_slice(&password);
                assert_eq!(again, data);
            }
        }
        b"PING" => {
            // What the connection answers.
            let context = data.get(2..).unwrap_or_default();
            let pong = command("PONG", &context[..context.len().min(16)]);
            assert!(pong.len() <= 1 + 4 + 16);
        }
        _ => check_properties(data),
    }
}

fn check_properties(data: &[u8]) {
    let Ok(props) = parse_properties(data) else {
        return;
    };
    let _ = (
        property(&props, "Socket-Type"),
        property(&props, "identity"),
    );
    // Names are read lossily; the others are the bytes they came from.
    if props.iter().all(|(name, _)| !name.contains('\u{fffd}')) {
        let pairs: Vec<(&str, &[u8])> = props.iter().map(|(n, v)| (n.as_str(), &v[..])).collect();
        assert_eq!(encode_properties(&pairs), data);
    }
}

#[test]
fn fuzz_frames() {
    fuzzkit::Target::new("frames", corpus("frames"))
        .iterations(25_000)
        .dictionary(NAMES)
        .run(frames);
}

#[test]
fn fuzz_commands() {
    fuzzkit::Target::new("commands", corpus("commands"))
        .iterations(100_000)
        .max_len(1024)
        .dictionary(NAMES)
        .run(check_command);
}

/// The byte streams of docs/protocol.md's TCP tap (pseud 1.0.1 and libzmq 4.3.5),
/// greeting and all, as the connection would read them.
const CAPTURED_STREAMS: &[(&str, &str)] = &[
    (
        "noop-client-to-server",
        "ff00000000000000017f 0301 4e554c4c00000000000000000000000000000000 00
         00000000000000000000000000000000000000000000000000000000000000
         0429 0552454144590b536f636b65742d5479706500000006524f55544552084964656e7469747900000000
         0000 0100 01027631 011000000000000040008000000000000008 010103 000993a361646492020580",
    ),
    (
        "noop-server-to-client",
        "ff00000000000000077f 0301 4e554c4c00000000000000000000000000000000 00
         00000000000000000000000000000000000000000000000000000000000000
         042f 0552454144590b536f636b65742d5479706500000006524f55544552084964656e7469747900000006736572766572
         0100 01027631 011000000000000040008000000000000008 010101 000107",
    ),
    (
        "plain-client-to-server",
        "ff00000000000000017f 0301 504c41494e000000000000000000000000000000 00
         00000000000000000000000000000000000000000000000000000000000000
         0413 0548454c4c4f05616c69636506736563726574
         042c 08494e4954494154450b536f636b65742d5479706500000006524f55544552084964656e7469747900000000
         0000 0100 01027631 011000000000000040008000000000000009 010103 000993a361646492020580",
    ),
    (
        "plain-server-to-client",
        "ff00000000000000077f 0301 504c41494e000000000000000000000000000000 00
         00000000000000000000000000000000000000000000000000000000000000
         0408 0757454c434f4d45
         042f 0552454144590b536f636b65742d5479706500000006524f55544552084964656e7469747900000006736572766572
         0100 01027631 011000000000000040008000000000000009 010101 000107",
    ),
];

/// The captured streams are what docs/protocol.md says: a greeting, then frames
/// that decode to the end with nothing left over.
#[test]
fn captured_streams_decode_whole() {
    for (name, hex) in CAPTURED_STREAMS {
        let bytes = fuzzkit::unhex(hex).unwrap();
        let (g, rest) = bytes.split_first_chunk::<GREETING_LEN>().unwrap();
        assert_eq!(parse_greeting(g).unwrap().minor, 1, "{name}");
        let decoded = decode_stream(rest, 64 * 1024, || usize::MAX);
        assert_eq!(decoded.end, Ok(Vec::new()), "{name}");
        assert_eq!(decoded.frames[0].0 & COMMAND, COMMAND, "{name}");
        assert!(decoded.frames.len() >= 6, "{name}");
    }
}

/// Writes the corpora of `frames` and `commands`: docs/protocol.md's captured
/// streams, and frames and commands this code makes. Run it after changing the
/// seeds: `cargo test -p pseud --lib write_zmtp_seeds -- --ignored`.
#[test]
#[ignore = "writes the committed corpus"]
fn write_zmtp_seeds() {
    let mut streams: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, (name, hex)) in CAPTURED_STREAMS.iter().enumerate() {
        let bytes = fuzzkit::unhex(hex).unwrap();
        // The first byte picks the frame limit and the pieces (see `frames`).
        let config = [0x20, 0x40, 0x60, 0xe0][i % 4];
        streams.push((format!("captured-{name}"), [&[config][..], &bytes].concat()));
    }
    let props = encode_properties(&[("Socket-Type", b"ROUTER"), ("Identity", b"server")]);
    let commands: Vec<(&str, Vec<u8>)> = vec![
        ("ready", command("READY", &props)),
        ("initiate", command("INITIATE", &props)),
        ("hello-plain", command("HELLO", b"\x05alice\x06secret")),
        ("welcome", command("WELCOME", b"")),
        ("error", error_command("400")),
        ("error-libzmq-plain", libzmq_plain_error("400")),
        ("ping", command("PING", b"\x00\x32context")),
        ("pong", command("PONG", b"context")),
        ("subscribe", command("SUBSCRIBE", b"topic")),
    ];
    let mut generated = greeting("CURVE", true).to_vec();
    let mut zmtp30 = greeting("NULL", false);
    zmtp30[11] = 0;
    for (_, body) in &commands {
        encode_frame(&mut generated, COMMAND, body);
    }
    encode_message(
        &mut generated,
        &[b"", b"v1", &[7; 16], b"\x03", &[0xa5; 300]],
    );
    streams.push((
        "generated-curve-commands-long-frame".into(),
        [&[0x05][..], &generated].concat(),
    ));
    let mut old = zmtp30.to_vec();
    encode_message(&mut old, &[b"", b"v1", b"", b"\x06", b""]);
    streams.push((
        "generated-zmtp30-heartbeat".into(),
        [&[0x83][..], &old].concat(),
    ));
    let mut bare = Vec::new();
    encode_frame(&mut bare, LONG, &[1; 255]);
    encode_frame(&mut bare, COMMAND | LONG, &command("READY", &props));
    streams.push((
        "generated-long-flag-short-frames".into(),
        [&[0x44][..], &bare].concat(),
    ));
    fuzzkit::write_seeds(&corpus("frames"), &streams).unwrap();
    fuzzkit::write_seeds(&corpus("commands"), &commands).unwrap();
}
