//! In-memory tests of both sides against each other.

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::scalar::Scalar;

use super::*;
use crate::keys::{KeyPair, PublicKey, SecretKey};

const MORE: u8 = 0x01;
const COMMAND: u8 = 0x04;

/// A whole handshake: the codecs, what each side learnt of the other, and the
/// command bodies that went across.
struct Done {
    client: CurveCodec,
    server: CurveCodec,
    client_key: PublicKey,
    client_meta: Metadata,
    server_meta: Metadata,
    commands: [Vec<u8>; 4],
}

fn handshake(server_keys: &KeyPair, client_keys: &KeyPair) -> Done {
    let mut client = CurveClient::new(&server_keys.public, client_keys);
    let mut server = CurveServer::new(server_keys);
    let hello = client.hello();
    let welcome = server.on_hello(&hello).unwrap();
    let initiate = client
        .on_welcome(&welcome, &[("Socket-Type", b"DEALER"), ("Identity", b"me")])
        .unwrap();
    let (client_key, client_meta) = server.on_initiate(&initiate).unwrap();
    let (ready, server_codec) = server.ready(&[("Socket-Type", b"ROUTER"), ("Identity", b"")]);
    let (server_meta, client_codec) = client.on_ready(&ready).unwrap();
    Done {
        client: client_codec,
        server: server_codec,
        client_key,
        client_meta,
        server_meta,
        commands: [hello, welcome, initiate, ready],
    }
}

fn meta(pairs: &[(&str, &[u8])]) -> Metadata {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_vec()))
        .collect()
}

fn encode(codec: &mut CurveCodec, flags: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    codec.encode(flags, body, &mut out);
    out
}

#[test]
fn handshake_sizes_keys_and_metadata() {
    let (server_keys, client_keys) = (KeyPair::generate(), KeyPair::generate());
    let done = handshake(&server_keys, &client_keys);
    assert_eq!(done.client_key, client_keys.public);
    assert_eq!(
        done.client_meta,
        meta(&[("Socket-Type", b"DEALER"), ("Identity", b"me")])
    );
    assert_eq!(
        done.server_meta,
        meta(&[("Socket-Type", b"ROUTER"), ("Identity", b"")])
    );
    let [hello, welcome, initiate, ready] = &done.commands;
    // libzmq's sizes: 200, 168, 257 + metadata, 30 + metadata.
    assert_eq!(hello.len(), 200);
    assert_eq!(&hello[..8], b"\x05HELLO\x01\x00");
    assert_eq!(hello[8..80], [0; 72]);
    assert_eq!(hello[112..120], 1u64.to_be_bytes());
    assert_eq!(welcome.len(), 168);
    let client_meta_len = (1 + 11 + 4 + 6) + (1 + 8 + 4 + 2);
    assert_eq!(initiate.len(), 257 + client_meta_len);
    assert_eq!(initiate[105..113], 2u64.to_be_bytes());
    let server_meta_len = (1 + 11 + 4 + 6) + (1 + 8 + 4);
    assert_eq!(ready.len(), 30 + server_meta_len);
    assert_eq!(ready[6..14], 1u64.to_be_bytes());
}

#[test]
fn libzmq_test_keys_handshake() {
    // zmq_curve(7)'s test key pairs.
    let server = KeyPair::from_secret(
        SecretKey::from_z85("JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6").unwrap(),
    );
    let client = KeyPair::from_secret(
        SecretKey::from_z85("D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs").unwrap(),
    );
    let done = handshake(&server, &client);
    assert_eq!(
        done.client_key.to_z85(),
        "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
    );
}

#[test]
fn messages_both_ways() {
    let mut done = handshake(&KeyPair::generate(), &KeyPair::generate());
    let big = vec![0xA5; 70_000];
    let frames: [(u8, &[u8]); 5] = [
        (MORE, b""),
        (MORE, b"hello"),
        (0, &big),
        (COMMAND, b"\x04PING\x00\x00\x00"),
        // LONG (0x02) and unknown bits are not carried.
        (0xFA, b"x"),
    ];
    for (flags, body) in frames {
        let message = encode(&mut done.client, flags, body);
        assert_eq!(message.len(), 33 + body.len());
        assert_eq!(&message[..8], b"\x07MESSAGE");
        let (got_flags, got) = done.server.decode(&message).unwrap();
        assert_eq!(
            (got_flags, got.as_slice()),
            (flags & (MORE | COMMAND), body)
        );

        let message = encode(&mut done.server, flags, body);
        let (got_flags, got) = done.client.decode(&message).unwrap();
        assert_eq!(
            (got_flags, got.as_slice()),
            (flags & (MORE | COMMAND), body)
        );
    }
}

#[test]
fn message_layout_and_nonces() {
    let mut done = handshake(&KeyPair::generate(), &KeyPair::generate());
    // Client: HELLO 1, INITIATE 2, so MESSAGEs from 3; server: READY 1, then 2.
    let from_client = encode(&mut done.client, MORE, b"a");
    assert_eq!(from_client[8..16], 3u64.to_be_bytes());
    let from_server = encode(&mut done.server, 0, b"b");
    assert_eq!(from_server[8..16], 2u64.to_be_bytes());
    // The flags byte inside the box: libzmq's msg_t flags, COMMAND = 0x02.
    let command = encode(&mut done.client, COMMAND | MORE, b"c");
    assert_eq!(command[8..16], 4u64.to_be_bytes());
    assert_eq!(
        done.server.decode(&from_client).unwrap(),
        (MORE, b"a".to_vec())
    );
    assert_eq!(
        done.server.decode(&command).unwrap(),
        (COMMAND | MORE, b"c".to_vec())
    );
    assert_eq!(
        done.client.decode(&from_server).unwrap(),
        (0, b"b".to_vec())
    );
}

#[test]
fn encode_appends_for_batching() {
    let mut done = handshake(&KeyPair::generate(), &KeyPair::generate());
    let mut out = b"prefix".to_vec();
    done.client.encode(MORE, b"one", &mut out);
    done.client.encode(0, b"three", &mut out);
    assert_eq!(&out[..6], b"prefix");
    let (first, second) = out[6..].split_at(33 + 3);
    assert_eq!(done.server.decode(first).unwrap(), (MORE, b"one".to_vec()));
    assert_eq!(done.server.decode(second).unwrap(), (0, b"three".to_vec()));
}

#[test]
fn tampered_messages_are_refused() {
    let mut done = handshake(&KeyPair::generate(), &KeyPair::generate());
    let message = encode(&mut done.client, 0, b"payload");
    for at in 8..message.len() {
        let mut bad = message.clone();
        bad[at] ^= 0x01;
        let err = done.server.decode(&bad).unwrap_err();
        assert!(
            matches!(err, CurveError::Decrypt(_) | CurveError::BadNonce),
            "byte {at}: {err:?}"
        );
    }
    // A nonce pushed far ahead does not move the counter either.
    let mut ahead = message.clone();
    ahead[8..16].copy_from_slice(&u64::MAX.to_be_bytes());
    assert!(matches!(
        done.server.decode(&ahead),
        Err(CurveError::Decrypt(_))
    ));
    for len in 0..33 {
        assert!(done.server.decode(&message[..len]).is_err());
    }
    // The untouched message still opens.
    assert_eq!(
        done.server.decode(&message).unwrap(),
        (0, b"payload".to_vec())
    );
}

#[test]
fn replayed_and_reordered_messages_are_refused() {
    let mut done = handshake(&KeyPair::generate(), &KeyPair::generate());
    let first = encode(&mut done.server, 0, b"1");
    let second = encode(&mut done.server, 0, b"2");
    let third = encode(&mut done.server, 0, b"3");
    assert!(done.client.decode(&first).is_ok());
    assert!(matches!(
        done.client.decode(&first),
        Err(CurveError::BadNonce)
    ));
    // Skipping is allowed (nonces only have to increase), going back is not.
    assert!(done.client.decode(&third).is_ok());
    assert!(matches!(
        done.client.decode(&second),
        Err(CurveError::BadNonce)
    ));
    // A message from the other direction has the other nonce prefix.
    let mut other = handshake(&KeyPair::generate(), &KeyPair::generate());
    let own = encode(&mut other.client, 0, b"x");
    assert!(matches!(
        other.client.decode(&own),
        Err(CurveError::Decrypt(_))
    ));
}

#[test]
fn wrong_server_key_fails() {
    let real = KeyPair::generate();
    let other = KeyPair::generate();
    // The client expects `other`; the real server cannot open its HELLO.
    let mut client = CurveClient::new(&other.public, &KeyPair::generate());
    let mut server = CurveServer::new(&real);
    let hello = client.hello();
    assert!(matches!(
        server.on_hello(&hello),
        Err(CurveError::Decrypt(_))
    ));

    // A WELCOME made for another client (another C') does not open either.
    let mut their_client = CurveClient::new(&other.public, &KeyPair::generate());
    let mut other_server = CurveServer::new(&other);
    let foreign_welcome = other_server.on_hello(&their_client.hello()).unwrap();
    assert!(matches!(
        client.on_welcome(&foreign_welcome, &[]),
        Err(CurveError::Decrypt(_))
    ));
}

#[test]
fn refusal_by_error_command() {
    let server_keys = KeyPair::generate();
    let mut client = CurveClient::new(&server_keys.public, &KeyPair::generate());
    let mut server = CurveServer::new(&server_keys);
    let welcome = server.on_hello(&client.hello()).unwrap();
    let initiate = client.on_welcome(&welcome, &[]).unwrap();
    server.on_initiate(&initiate).unwrap();
    let error = error_command("400");
    assert_eq!(error, b"\x05ERROR\x03400");
    match client.on_ready(&error) {
        Err(CurveError::Refused(reason)) => assert_eq!(reason, "400"),
        other => panic!("{:?}", other.map(|(m, _)| m)),
    }
    // ERROR in place of WELCOME too.
    let mut client = CurveClient::new(&server_keys.public, &KeyPair::generate());
    client.hello();
    assert!(matches!(
        client.on_welcome(&error_command("no"), &[]),
        Err(CurveError::Refused(r)) if r == "no"
    ));
    assert!(matches!(
        client.on_welcome(b"\x05ERROR\x09short", &[]),
        Err(CurveError::Malformed(_))
    ));
    assert!(matches!(
        client.on_welcome(b"\x05ERROR", &[]),
        Err(CurveError::Malformed(_))
    ));
}

#[test]
fn error_command_cuts_long_reasons_on_char_boundaries() {
    let long = "é".repeat(200); // 400 bytes
    let body = error_command(&long);
    assert_eq!(body[6], 254);
    assert_eq!(body.len(), 7 + 254);
    assert!(std::str::from_utf8(&body[7..]).is_ok());
}

#[test]
fn every_flipped_byte_of_hello_welcome_initiate_is_refused() {
    let server_keys = KeyPair::generate();
    let mut client = CurveClient::new(&server_keys.public, &KeyPair::generate());
    let mut server = CurveServer::new(&server_keys);
    let hello = client.hello();
    for at in 0..hello.len() {
        let mut bad = hello.clone();
        bad[at] ^= 0x20;
        let result = CurveServer::new(&server_keys).on_hello(&bad);
        // Like libzmq, nothing checks that the padding is zero.
        assert_eq!(result.is_ok(), (8..80).contains(&at), "HELLO byte {at}");
    }
    for len in 0..hello.len() {
        assert!(
            CurveServer::new(&server_keys)
                .on_hello(&hello[..len])
                .is_err()
        );
    }
    let welcome = server.on_hello(&hello).unwrap();
    // A failed step leaves each side as it was, so the same one is tried again.
    for at in 0..welcome.len() {
        let mut bad = welcome.clone();
        bad[at] ^= 0x20;
        assert!(client.on_welcome(&bad, &[]).is_err(), "WELCOME byte {at}");
    }
    for len in 0..welcome.len() {
        assert!(client.on_welcome(&welcome[..len], &[]).is_err());
    }
    let initiate = client
        .on_welcome(&welcome, &[("Socket-Type", b"REQ")])
        .unwrap();
    for at in 0..initiate.len() {
        let mut bad = initiate.clone();
        bad[at] ^= 0x20;
        assert!(server.on_initiate(&bad).is_err(), "INITIATE byte {at}");
    }
    for len in 0..initiate.len() {
        assert!(server.on_initiate(&initiate[..len]).is_err());
    }
    assert!(server.on_initiate(&initiate).is_ok());
}

#[test]
fn flipped_or_short_ready_is_refused() {
    let server_keys = KeyPair::generate();
    let ready_for = || {
        let mut client = CurveClient::new(&server_keys.public, &KeyPair::generate());
        let mut server = CurveServer::new(&server_keys);
        let welcome = server.on_hello(&client.hello()).unwrap();
        server
            .on_initiate(&client.on_welcome(&welcome, &[]).unwrap())
            .unwrap();
        let (ready, _) = server.ready(&[("Socket-Type", b"ROUTER")]);
        (client, ready)
    };
    for at in [0, 5, 6, 13, 14, 29, 30, 40] {
        let (client, mut ready) = ready_for();
        ready[at] ^= 0x20;
        assert!(client.on_ready(&ready).is_err(), "READY byte {at}");
    }
    for len in [0, 6, 14, 29, 30, 45] {
        let (client, ready) = ready_for();
        assert!(
            client.on_ready(&ready[..len]).is_err(),
            "READY cut to {len}"
        );
    }
}

#[test]
fn steps_out_of_order() {
    let server_keys = KeyPair::generate();
    let mut client = CurveClient::new(&server_keys.public, &KeyPair::generate());
    let mut server = CurveServer::new(&server_keys);
    let hello = client.hello();
    assert!(matches!(
        server.on_initiate(b"\x08INITIATE"),
        Err(CurveError::OutOfOrder(_))
    ));
    let welcome = server.on_hello(&hello).unwrap();
    assert!(matches!(
        server.on_hello(&hello),
        Err(CurveError::OutOfOrder(_))
    ));

    let mut fresh = CurveClient::new(&server_keys.public, &KeyPair::generate());
    assert!(matches!(
        fresh.on_welcome(&welcome, &[]),
        Err(CurveError::OutOfOrder(_))
    ));
    assert!(matches!(
        fresh.on_ready(b"\x05READY"),
        Err(CurveError::OutOfOrder(_))
    ));
    assert!(matches!(
        client.on_welcome(b"\x05READY...", &[]),
        Err(CurveError::UnexpectedCommand(name)) if name == "READY"
    ));
    assert!(matches!(
        client.on_welcome(b"", &[]),
        Err(CurveError::UnexpectedCommand(_))
    ));
    assert!(matches!(
        client.on_welcome(b"\xFFab", &[]),
        Err(CurveError::UnexpectedCommand(name)) if name == "ab"
    ));
}

#[test]
fn codec_is_send() {
    // A connection's task may move between runtime threads.
    fn send<T: Send>() {}
    send::<CurveCodec>();
    send::<CurveClient>();
    send::<CurveServer>();
}

#[test]
#[should_panic(expected = "before a successful on_initiate")]
fn ready_before_initiate_panics() {
    let _ = CurveServer::new(&KeyPair::generate()).ready(&[]);
}

fn torsioned_key() -> [u8; 32] {
    let point = ED25519_BASEPOINT_POINT * Scalar::from(12345u64) + EIGHT_TORSION[1];
    point.to_montgomery().to_bytes()
}

#[test]
fn weak_points_are_refused() {
    let mut p_minus_1 = [0xFF; 32];
    p_minus_1[0] = 0xEC;
    p_minus_1[31] = 0x7F;
    let mut one = [0u8; 32];
    one[0] = 1;
    let order_8 = EIGHT_TORSION[1].to_montgomery().to_bytes();
    for weak in [[0u8; 32], one, p_minus_1, order_8, torsioned_key()] {
        assert!(!is_strong_point(&weak), "{weak:02x?}");
    }
    for _ in 0..20 {
        assert!(is_strong_point(KeyPair::generate().public.as_bytes()));
    }
    // A HELLO whose C' is weak is refused before any box is opened.
    let server_keys = KeyPair::generate();
    let mut hello = CurveClient::new(&server_keys.public, &KeyPair::generate()).hello();
    hello[80..112].copy_from_slice(&[0; 32]);
    assert!(matches!(
        CurveServer::new(&server_keys).on_hello(&hello),
        Err(CurveError::BadKey(_))
    ));
    // A client told to trust a weak server key fails at WELCOME.
    let weak = PublicKey::from_bytes(torsioned_key());
    let mut client = CurveClient::new(&weak, &KeyPair::generate());
    client.hello();
    let welcome = [WELCOME, &[0; 160]].concat();
    assert!(matches!(
        client.on_welcome(&welcome, &[]),
        Err(CurveError::BadKey(_))
    ));
}

#[test]
fn metadata_round_trip_and_truncation() {
    let props: [(&str, &[u8]); 3] = [("Socket-Type", b"DEALER"), ("Identity", b""), ("", b"v")];
    let mut bytes = Vec::new();
    encode_metadata(&props, &mut bytes);
    assert_eq!(&bytes[..16], b"\x0bSocket-Type\x00\x00\x00\x06");
    assert_eq!(decode_metadata(&bytes).unwrap(), meta(&props));
    assert_eq!(decode_metadata(b"").unwrap(), Vec::new());
    for len in 1..bytes.len() {
        let cut = &bytes[..len];
        // Cuts between whole properties are valid metadata of fewer properties.
        let whole = [0, 22, 22 + 13];
        assert_eq!(
            decode_metadata(cut).is_ok(),
            whole.contains(&len),
            "cut at {len}"
        );
    }
    // A value length past the end (and one past any usize on 32 bits).
    assert!(decode_metadata(b"\x01a\xff\xff\xff\xffxyz").is_err());
    // Non-UTF-8 names are kept lossily, not refused (libzmq takes any bytes).
    assert_eq!(
        decode_metadata(b"\x01\xff\x00\x00\x00\x00").unwrap()[0].0,
        "\u{fffd}"
    );
}
