//! Fuzz targets of what the engine does with a whole message, and of the JSON
//! form (fuzzkit; see docs/protocol.md, "Fuzzing"):
//! - `messages`: multipart messages (ZMTP frames, split at MORE as a connection
//!   splits them) through [`classify`] and the body decoders of each type;
//! - `json`: JSON text through [`from_json`], as the command-line tools read it.
//!
//! Properties: no panic; `classify` follows the frame rules (a probe is exactly two
//! frames with an empty second, an answer id only for a WORK); a message rebuilt
//! from what `classify` said classifies the same; a JSON value that converts comes
//! back from `to_json` as the same value.

use std::path::PathBuf;

use bytes::BytesMut;

use crate::json::{from_json, to_json};
use crate::protocol::{Inbound, MessageType, VERSION, classify};
use crate::value::{Value, decode_work, read_value, write_value};
use crate::zmtp::frame::{MORE, decode_frame, encode_message};

fn corpus(target: &str) -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "fuzz-corpus", target]
        .iter()
        .collect()
}

/// The messages in a stream of ZMTP frames: the frames up to each one without MORE.
fn split_messages(stream: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut buf = BytesMut::from(stream);
    let (mut messages, mut frames) = (Vec::new(), Vec::new());
    while let Ok(Some((flags, body))) = decode_frame(&mut buf, 64 * 1024) {
        frames.push(body.to_vec());
        if flags & MORE == 0 {
            messages.push(std::mem::take(&mut frames));
        }
    }
    messages
}

fn messages(input: &[u8]) {
    for mut message in split_messages(input) {
        // The routing id the router puts first.
        message.insert(0, b"\x00\x6b\x8b\x45\x67".to_vec());
        check_message(&message);
    }
}

fn check_message(frames: &[Vec<u8>]) {
    match classify(frames) {
        Inbound::Probe => assert!(frames.len() == 2 && frames[1].is_empty()),
        Inbound::Malformed { reason, answer_id } => {
            let _ = reason.to_string();
            if answer_id.is_some() {
                assert!(frames.len() >= 5 && frames[4] == [MessageType::Work.byte()]);
            }
        }
        Inbound::Message { id, kind, body } => {
            assert_eq!(frames.len(), 6);
            assert_eq!(frames[2], VERSION);
            let rebuilt = [
                frames[0].clone(),
                Vec::new(),
                VERSION.to_vec(),
                id.to_vec(),
                vec![kind.byte()],
                body.to_vec(),
            ];
            assert_eq!(classify(&rebuilt), Inbound::Message { id, kind, body });
            check_body(kind, body);
        }
    }
}

/// The body decoders the engine and the callers use for each type.
fn check_body(kind: MessageType, body: &[u8]) {
    match kind {
        MessageType::Work => {
            let _ = decode_work(body, default_budget(body)).map_err(|fault| fault.to_string());
        }
        MessageType::Ok | MessageType::Error | MessageType::Hello => {
            if let Ok(value) = read_value(body) {
                let mut again = Vec::new();
                write_value(&mut again, &value);
                assert!(read_value(&again).is_ok());
                let _ = value.to_string();
            }
        }
        // Raw bytes, not msgpack.
        MessageType::Authenticated | MessageType::Unauthorized | MessageType::Heartbeat => {
            let _ = String::from_utf8_lossy(body);
        }
    }
}

fn json(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return;
    };
    let Ok(value) = from_json(&json) else {
        return;
    };
    let back = to_json(&value);
    let again = from_json(&back)
        .unwrap_or_else(|e| panic!("to_json gave {back} that from_json refuses: {e}"));
    let bytes = |v: &Value| {
        let mut out = Vec::new();
        write_value(&mut out, v);
        out
    };
    assert_eq!(bytes(&again), bytes(&value), "{json} → {back}");
}

#[test]
fn fuzz_messages() {
    fuzzkit::Target::new("messages", corpus("messages"))
        .iterations(60_000)
        .max_len(2048)
        .run(messages);
}

#[test]
fn fuzz_json() {
    fuzzkit::Target::new("json", corpus("json"))
        .iterations(30_000)
        .max_len(2048)
        .text()
        .dictionary(&[
            "\"$bytes\"",
            "\"$map\"",
            "\"$ext\"",
            "\"$float\"",
            "\"nan\"",
            "\"-inf\"",
            "null",
            "[[",
            "{\"",
            "1e308",
            "-9223372036854775808",
            "18446744073709551615",
            "\"\\ud800\"",
        ])
        .run(json);
}

/// Messages captured from pseud 1.0.1 (docs/protocol.md's vectors), as frames
/// without the routing id, one message per seed.
const CAPTURED_MESSAGES: &[(&str, &[&str])] = &[
    ("probe", &[""]),
    (
        "work-add",
        &[
            "",
            "7631",
            "00000000000040008000000000000001",
            "03",
            "93a361646492020580",
        ],
    ),
    (
        "ok-7",
        &["", "7631", "00000000000040008000000000000001", "01", "07"],
    ),
    (
        "work-kw",
        &[
            "",
            "7631",
            "00000000000040008000000000000003",
            "03",
            "93a26b77910181a16203",
        ],
    ),
    ("heartbeat", &["", "7631", "", "06", ""]),
    (
        "hello",
        &[
            "",
            "7631",
            "00000000000040008000000000000099",
            "02",
            "92c405616c696365c406736563726574",
        ],
    ),
    (
        "dealer-empty-id",
        &["", "7631", "", "03", "93a361646492020580"],
    ),
    (
        "ok-bin",
        &[
            "",
            "7631",
            "00000000000040008000000000000010",
            "01",
            "c405616c696365",
        ],
    ),
];

/// Writes the corpora of `messages` and `json`. Run it after changing the seeds:
/// `cargo test -p pseud --lib write_message_seeds -- --ignored`.
#[test]
#[ignore = "writes the committed corpus"]
fn write_message_seeds() {
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, frames) in CAPTURED_MESSAGES {
        let frames: Vec<Vec<u8>> = frames.iter().map(|f| fuzzkit::unhex(f).unwrap()).collect();
        let slices: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        let mut stream = Vec::new();
        encode_message(&mut stream, &slices);
        seeds.push((format!("captured-{name}"), stream));
    }
    let error = fuzzkit::unhex("93aa56616c75654572726f72a4626f6f6da0").unwrap();
    let made: [(&str, Vec<&[u8]>); 4] = [
        ("error", vec![b"", b"v1", &[1; 16], b"\x10", &error]),
        (
            "unauthorized",
            vec![b"", b"v1", &[2; 16], b"\x11", b"Authentication Required"],
        ),
        (
            "v2-work",
            vec![b"", b"v2", &[3; 16], b"\x03", b"\x93\xa1a\x90\x80"],
        ),
        (
            "seven-frames",
            vec![b"", b"v1", &[4; 16], b"\x03", b"\x90", b"\x90"],
        ),
    ];
    for (name, frames) in made {
        let mut stream = Vec::new();
        encode_message(&mut stream, &frames);
        seeds.push((format!("made-{name}"), stream));
    }
    // Two messages in one stream: a probe, then a call.
    let mut two = Vec::new();
    encode_message(&mut two, &[b""]);
    encode_message(
        &mut two,
        &[
            b"",
            b"v1",
            &[5; 16],
            b"\x03",
            b"\x93\xa3add\x92\x02\x05\x80",
        ],
    );
    seeds.push(("made-probe-then-work".into(), two));
    fuzzkit::write_seeds(&corpus("messages"), &seeds).unwrap();

    let json: [(&str, &str); 6] = [
        ("call-args", r#"[2, 5]"#),
        (
            "every-kind",
            r#"[null,true,-3,18446744073709551615,1.5,"héllo",{"$bytes":"00ff"},{"$map":[[1,"intkey"]]},{"a":1},{"$map":[["$bytes",1]]},{"$ext":[125,"0102"]},{"$float":"inf"}]"#,
        ),
        (
            "struct-by-name",
            r#"{"first": 2, "second": {"x": [1, 2, {"$float": "nan"}]}}"#,
        ),
        ("repeated-keys", r#"{"$map":[["a",1],["a",2]]}"#),
        (
            "bad-tags",
            r#"[{"$bytes":"0"},{"$ext":[300,"00"]},{"$float":"zero"}]"#,
        ),
        (
            "numbers",
            r#"[0, -0, 1e300, -1.0e-300, 9223372036854775807, -9223372036854775808, 0.1]"#,
        ),
    ];
    fuzzkit::write_seeds(&corpus("json"), &json).unwrap();
}

/// The decoding budget a server with default limits gives `body`.
fn default_budget(body: &[u8]) -> usize {
    crate::Limits::default().decode_budget(body.len())
}
