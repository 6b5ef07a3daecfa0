//! Fuzz targets of CURVE (fuzzkit; see docs/protocol.md, "Fuzzing"):
//! - `curve_handshake`: tampered HELLO, WELCOME, INITIATE and READY commands, each
//!   given to a side that is really at that step of a handshake, and ZMTP metadata
//!   as a box's plaintext carries it;
//! - `curve_messages`: MESSAGE command bodies given to a [`CurveCodec`] with a real
//!   key pair.
//!
//! A `curve_handshake` input is `[step] [patch …]`: the patch is XORed onto the live
//! command of that step (bytes past its end are appended, a shorter patch cuts it),
//! so an all-zero patch is the genuine command and mutations tamper with it.
//!
//! Properties: no panic; a side accepts a command only if it is authentic (what the
//! other side sent, metadata and all); a MESSAGE that decodes re-encodes to the same
//! frame, does not decode twice (replay), and a refused one leaves the codec usable.

use std::path::PathBuf;

use crypto_box::SalsaBox;

use super::{
    CurveClient, CurveCodec, CurveServer, MESSAGE_NONCE_CLIENT, MESSAGE_NONCE_SERVER, Metadata,
    decode_metadata, encode_metadata, refusal, unexpected,
};
use crate::keys::{KeyPair, SecretKey};

fn corpus(target: &str) -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "fuzz-corpus", target]
        .iter()
        .collect()
}

const CLIENT_META: [(&str, &[u8]); 2] = [("Socket-Type", b"DEALER"), ("Identity", b"me")];
const SERVER_META: [(&str, &[u8]); 2] = [("Socket-Type", b"ROUTER"), ("Identity", b"")];

/// Fixed long-term keys, so that the committed seeds stay valid.
fn keys() -> (KeyPair, KeyPair) {
    (
        KeyPair::from_secret(SecretKey::from_bytes([0x5e; 32])),
        KeyPair::from_secret(SecretKey::from_bytes([0xc1; 32])),
    )
}

fn meta(pairs: &[(&str, &[u8])]) -> Metadata {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_vec()))
        .collect()
}

/// Each side at each step of one handshake, with the command it expects next.
/// A side that accepts its command has moved on, so its slot is made again.
#[derive(Default)]
struct Live {
    /// The client's long-term public key, as the server should learn it.
    client: Option<crate::keys::PublicKey>,
    hello: Option<(CurveServer, Vec<u8>)>,
    welcome: Option<(CurveClient, Vec<u8>)>,
    initiate: Option<(CurveServer, Vec<u8>)>,
    ready: Option<(CurveClient, Vec<u8>)>,
}

/// A handshake run to just before `step` (0 HELLO … 3 READY): the side that takes
/// that step's command, and the command.
fn handshake_until(step: u8) -> (Option<CurveServer>, Option<CurveClient>, Vec<u8>) {
    let (server_keys, client_keys) = keys();
    let mut client = CurveClient::new(&server_keys.public, &client_keys);
    let mut server = CurveServer::new(&server_keys);
    let hello = client.hello();
    if step == 0 {
        return (Some(server), None, hello);
    }
    let welcome = server.on_hello(&hello).unwrap();
    if step == 1 {
        return (None, Some(client), welcome);
    }
    let initiate = client.on_welcome(&welcome, &CLIENT_META).unwrap();
    if step == 2 {
        return (Some(server), None, initiate);
    }
    server.on_initiate(&initiate).unwrap();
    let (ready, _) = server.ready(&SERVER_META);
    (None, Some(client), ready)
}

fn patched(live: &[u8], patch: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = live.iter().zip(patch).map(|(a, b)| a ^ b).collect();
    out.extend_from_slice(patch.get(live.len()..).unwrap_or_default());
    out
}

fn handshake(live: &mut Live, input: &[u8]) {
    let Some((&step, patch)) = input.split_first() else {
        return;
    };
    match step % 8 {
        0 => {
            let (mut server, hello) = live.hello.take().unwrap_or_else(|| {
                let (server, _, hello) = handshake_until(0);
                (server.unwrap(), hello)
            });
            let command = patched(&hello, patch);
            check_any(&command);
            match server.on_hello(&command) {
                Ok(welcome) => assert_eq!(welcome.len(), 168),
                Err(_) => live.hello = Some((server, hello)),
            }
        }
        1 => {
            let (mut client, welcome) = live.welcome.take().unwrap_or_else(|| {
                let (_, client, welcome) = handshake_until(1);
                (client.unwrap(), welcome)
            });
            let command = patched(&welcome, patch);
            check_any(&command);
            match client.on_welcome(&command, &CLIENT_META) {
                Ok(_) => assert_eq!(command, welcome, "a forged WELCOME was accepted"),
                Err(_) => live.welcome = Some((client, welcome)),
            }
        }
        2 => {
            let (mut server, initiate) = live.initiate.take().unwrap_or_else(|| {
                let (server, _, initiate) = handshake_until(2);
                (server.unwrap(), initiate)
            });
            let command = patched(&initiate, patch);
            check_any(&command);
            match server.on_initiate(&command) {
                Ok((key, metadata)) => {
                    let client = *live.client.get_or_insert_with(|| keys().1.public);
                    assert_eq!((key, metadata), (client, meta(&CLIENT_META)));
                    assert_eq!(command, initiate, "a forged INITIATE was accepted");
                }
                Err(_) => live.initiate = Some((server, initiate)),
            }
        }
        // READY consumes the client whatever it says: a handshake per input, the
        // dearest step, so the corpus holds fewer of them.
        3 => {
            let (client, ready) = live.ready.take().unwrap_or_else(|| {
                let (_, client, ready) = handshake_until(3);
                (client.unwrap(), ready)
            });
            let command = patched(&ready, patch);
            check_any(&command);
            if let Ok((metadata, _)) = client.on_ready(&command) {
                assert_eq!(metadata, meta(&SERVER_META));
                assert_eq!(command, ready, "a forged READY was accepted");
            }
        }
        _ => check_metadata(patch),
    }
}

/// What any command body goes through when it is not the expected one.
fn check_any(command: &[u8]) {
    let _ = refusal(command);
    let _ = unexpected(command).to_string();
}

/// Metadata plaintext: what decodes encodes back to the same bytes.
fn check_metadata(data: &[u8]) {
    let Ok(props) = decode_metadata(data) else {
        return;
    };
    if props.iter().all(|(name, _)| !name.contains('\u{fffd}')) {
        let pairs: Vec<(&str, &[u8])> = props.iter().map(|(n, v)| (n.as_str(), &v[..])).collect();
        let mut again = Vec::new();
        encode_metadata(&pairs, &mut again);
        assert_eq!(again, data);
    }
}

/// The box of the fixed key pairs, both directions' codecs are made of.
fn cipher() -> SalsaBox {
    let (server_keys, client_keys) = keys();
    SalsaBox::new(
        &crypto_box::PublicKey::from(*server_keys.public.as_bytes()),
        &crypto_box::SecretKey::from_bytes(*client_keys.secret.as_bytes()),
    )
}

/// The client's codec sending with short nonce `next`, and the server's receiving
/// after the handshake (whose last client nonce is 2, INITIATE).
fn codecs(next: u64) -> (CurveCodec, CurveCodec) {
    let client = CurveCodec::new(
        cipher(),
        MESSAGE_NONCE_CLIENT,
        MESSAGE_NONCE_SERVER,
        next,
        2,
    );
    let server = CurveCodec::new(cipher(), MESSAGE_NONCE_SERVER, MESSAGE_NONCE_CLIENT, 2, 2);
    (client, server)
}

/// Codecs as they are after a handshake, copied for each input: `split` shares the
/// box, where making one again would cost an X25519 per input.
struct Codecs {
    client: Option<CurveCodec>,
    server: Option<CurveCodec>,
    /// The client's first MESSAGE.
    genuine: Vec<u8>,
}

impl Codecs {
    fn new() -> Self {
        let (client, server) = codecs(3);
        let mut codecs = Codecs {
            client: Some(client),
            server: Some(server),
            genuine: Vec::new(),
        };
        let (mut first, _) = codecs.fresh();
        first.encode(0x01, b"v1", &mut codecs.genuine);
        codecs
    }

    /// A fresh copy of the client's and the server's codec.
    fn fresh(&mut self) -> (CurveCodec, CurveCodec) {
        let copy = |slot: &mut Option<CurveCodec>| {
            let (a, b) = slot.take().unwrap().split();
            *slot = Some(a);
            b
        };
        (copy(&mut self.client), copy(&mut self.server))
    }
}

fn messages(codecs: &mut Codecs, input: &[u8]) {
    let (mut client, mut server) = codecs.fresh();
    match server.decode(input) {
        Ok((flags, body)) => {
            assert_eq!(flags & !(0x01 | 0x04), 0);
            assert!(
                server.decode(input).is_err(),
                "a replayed MESSAGE was accepted"
            );
            let (_, mut fresh) = codecs.fresh();
            let mut again = Vec::new();
            client.encode(flags, &body, &mut again);
            assert_eq!(fresh.decode(&again).ok(), Some((flags, body)));
        }
        Err(_) => {
            // The refusal moved nothing: the next genuine MESSAGE still decodes.
            let decoded = server.decode(&codecs.genuine).ok();
            assert_eq!(decoded, Some((0x01, b"v1".to_vec())));
        }
    }
}

#[test]
fn fuzz_curve_handshake() {
    let mut live = Live::default();
    fuzzkit::Target::new("curve_handshake", corpus("curve_handshake"))
        .iterations(1_000)
        .max_len(600)
        .run(|input| handshake(&mut live, input));
}

#[test]
fn fuzz_curve_messages() {
    let mut codecs = Codecs::new();
    fuzzkit::Target::new("curve_messages", corpus("curve_messages"))
        .iterations(30_000)
        .max_len(1024)
        .dictionary(&[
            &b"\x07MESSAGE"[..],
            b"\x05ERROR",
            b"\x00\x00\x00\x00\x00\x00\x00\x03",
        ])
        .run(|input| messages(&mut codecs, input));
}

/// Writes the corpora of both targets: all-zero patches (the genuine commands),
/// cut and lengthened ones, metadata, and MESSAGEs this codec makes. Run it after
/// changing the keys or the layouts:
/// `cargo test -p pseud --lib write_curve_seeds -- --ignored`.
#[test]
#[ignore = "writes the committed corpus"]
fn write_curve_seeds() {
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    for (step, name) in ["hello", "welcome", "initiate", "ready"].iter().enumerate() {
        let step = step as u8;
        let (_, _, live) = handshake_until(step);
        let mut patches = vec![("genuine", vec![0; live.len()])];
        // READY costs a whole handshake per input: one seed of it.
        if step != 3 {
            patches.push(("cut", vec![0; live.len() - 1]));
            patches.push(("longer", vec![0; live.len() + 1]));
            patches.push(("name-only", vec![0; usize::from(live[0]) + 1]));
        }
        for (kind, patch) in patches {
            seeds.push((
                format!("{step}-{name}-{kind}"),
                [&[step][..], &patch].concat(),
            ));
        }
    }
    let mut props = Vec::new();
    encode_metadata(
        &[
            ("Socket-Type", b"ROUTER"),
            ("Identity", b"server"),
            ("X", b""),
        ],
        &mut props,
    );
    seeds.push(("4-metadata".into(), [&[4][..], &props].concat()));
    seeds.push(("5-metadata-empty".into(), vec![5]));
    fuzzkit::write_seeds(&corpus("curve_handshake"), &seeds).unwrap();

    let mut messages: Vec<(String, Vec<u8>)> = Vec::new();
    for (next, flags, body) in [
        (3, 0x01, &b""[..]),
        (4, 0x01, b"v1"),
        (5, 0x00, b"\x93\xa3add\x92\x02\x05\x80"),
        (6, 0x04, b"\x04PING\x00\x32"),
        (1 << 40, 0x00, &[0xa5; 300][..]),
        (u64::MAX - 1, 0x00, b"last"),
    ] {
        let (mut client, _) = codecs(next);
        let mut out = Vec::new();
        client.encode(flags, body, &mut out);
        messages.push((format!("message-{next:x}-{flags:02x}-{}", body.len()), out));
    }
    messages.push(("error".into(), super::error_command("400")));
    fuzzkit::write_seeds(&corpus("curve_messages"), &messages).unwrap();
}
