//! The pseud v1 message: frame layout, type bytes and message ids.
//!
//! As a ROUTER socket sees it, a message is
//! `[peer routing id] [""] ["v1"] [message id] [type byte] [body]`.
//! This module is pure: it classifies received frames and builds outgoing
//! ones, so every wire rule is unit-testable without sockets.

use std::fmt;

/// The protocol version frame every pseud v1 message carries.
pub const VERSION: &[u8] = b"v1";

/// The type byte of a pseud message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// A successful reply; the body is the msgpack return value.
    Ok,
    /// A login request (custom auth plugins only); body `[login, password]`.
    Hello,
    /// A call; the body is msgpack `[name, args, kwargs]`.
    Work,
    /// A successful login reply; raw body.
    Authenticated,
    /// A liveness signal; empty id and body, never answered.
    Heartbeat,
    /// A failed call; the body is msgpack `[class, message, traceback]`.
    Error,
    /// A refused call or login; raw body.
    Unauthorized,
}

impl MessageType {
    /// The byte that stands for this type on the wire.
    pub const fn byte(self) -> u8 {
        match self {
            MessageType::Ok => 0x01,
            MessageType::Hello => 0x02,
            MessageType::Work => 0x03,
            MessageType::Authenticated => 0x04,
            MessageType::Heartbeat => 0x06,
            MessageType::Error => 0x10,
            MessageType::Unauthorized => 0x11,
        }
    }

    /// The type for a wire byte, or `None` for an unknown byte.
    pub const fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            0x01 => MessageType::Ok,
            0x02 => MessageType::Hello,
            0x03 => MessageType::Work,
            0x04 => MessageType::Authenticated,
            0x06 => MessageType::Heartbeat,
            0x10 => MessageType::Error,
            0x11 => MessageType::Unauthorized,
            _ => return None,
        })
    }

    /// Whether this type answers an earlier message (and so must never be answered).
    pub const fn is_reply(self) -> bool {
        matches!(
            self,
            MessageType::Ok
                | MessageType::Error
                | MessageType::Authenticated
                | MessageType::Unauthorized
        )
    }
}

/// A 16-byte message id: uuid4 bytes, echoed byte for byte by the reply.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageId(pub [u8; 16]);

impl MessageId {
    /// A fresh random id in uuid4 layout (version and variant bits set).
    pub fn random() -> Self {
        let mut bytes: [u8; 16] = rand::random();
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        MessageId(bytes)
    }

    /// The id in a received frame, if it has our 16-byte form.
    pub fn from_frame(frame: &[u8]) -> Option<Self> {
        frame.try_into().ok().map(MessageId)
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// What a received multipart message turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum Inbound<'a> {
    /// `[routing id] [""]`: the libzmq probe sent on connect.
    Probe,
    /// A well-formed pseud v1 message.
    Message {
        /// The message id frame, as sent (any length).
        id: &'a [u8],
        /// The decoded type byte.
        kind: MessageType,
        /// The body frame.
        body: &'a [u8],
    },
    /// A message that breaks the frame rules.
    Malformed {
        /// What is wrong, for the log and for an ERROR reply.
        reason: Malformed,
        /// The id to answer with, when the sender sent a WORK we can answer.
        answer_id: Option<&'a [u8]>,
    },
}

/// Ways a received message can break the frame rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// Not 6 frames (2 for a probe).
    #[error("expected 6 frames, got {0}")]
    FrameCount(usize),
    /// The delimiter frame after the routing id is not empty.
    #[error("frame 1 must be the empty delimiter")]
    Delimiter,
    /// The version frame is not `v1`.
    #[error("unsupported protocol version {0:?} (this peer speaks v1)")]
    Version(String),
    /// The type frame is not one known byte.
    #[error("unknown message type {0}")]
    Type(String),
}

/// Classifies the frames of one received message (frame 0 = routing id).
pub fn classify<F: std::ops::Deref<Target = [u8]>>(frames: &[F]) -> Inbound<'_> {
    let frame = |i: usize| &*frames[i];
    if frames.len() == 2 && frame(1).is_empty() {
        return Inbound::Probe;
    }
    // Only a WORK can be answered: never reply to a reply or to what we cannot read.
    let answer_id = if frames.len() >= 5 && frame(4) == [MessageType::Work.byte()] {
        Some(frame(3))
    } else {
        None
    };
    let malformed = |reason| Inbound::Malformed { reason, answer_id };
    if frames.len() != 6 {
        return malformed(Malformed::FrameCount(frames.len()));
    }
    if !frame(1).is_empty() {
        return malformed(Malformed::Delimiter);
    }
    if frame(2) != VERSION {
        return malformed(Malformed::Version(
            String::from_utf8_lossy(frame(2)).into_owned(),
        ));
    }
    let kind = match frame(4) {
        [byte] => MessageType::from_byte(*byte),
        _ => None,
    };
    match kind {
        Some(kind) => Inbound::Message {
            id: frame(3),
            kind,
            body: frame(5),
        },
        None => malformed(Malformed::Type(hex(frame(4)))),
    }
}

/// Lowercase hex of some bytes, for diagnostics.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(hexes: &[&str]) -> Vec<Vec<u8>> {
        hexes
            .iter()
            .map(|h| {
                (0..h.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn probe_is_two_frames_with_empty_second() {
        assert_eq!(classify(&frames(&["006b8b4567", ""])), Inbound::Probe);
    }

    #[test]
    fn work_vector_from_python_pseud() {
        let f = frames(&[
            "006b8b4567",
            "",
            "7631",
            "00000000000040008000000000000001",
            "03",
            "93a361646492020580",
        ]);
        match classify(&f) {
            Inbound::Message { id, kind, body } => {
                assert_eq!(kind, MessageType::Work);
                assert_eq!(id.len(), 16);
                assert_eq!(body, &f[5][..]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn wrong_version_of_work_is_answerable() {
        let f = frames(&["01", "", "7632", "aa", "03", "90"]);
        assert_eq!(
            classify(&f),
            Inbound::Malformed {
                reason: Malformed::Version("v2".into()),
                answer_id: Some(&[0xaa][..]),
            }
        );
    }

    #[test]
    fn unknown_type_is_not_answered() {
        let f = frames(&["01", "", "7631", "aa", "07", ""]);
        assert!(matches!(
            classify(&f),
            Inbound::Malformed {
                reason: Malformed::Type(_),
                answer_id: None
            }
        ));
    }

    #[test]
    fn extra_frames_keep_work_answerable() {
        let f = frames(&["01", "", "7631", "aa", "03", "90", "90"]);
        assert_eq!(
            classify(&f),
            Inbound::Malformed {
                reason: Malformed::FrameCount(7),
                answer_id: Some(&[0xaa][..]),
            }
        );
    }

    #[test]
    fn random_ids_are_uuid4() {
        let id = MessageId::random();
        assert_eq!(id.0[6] >> 4, 4);
        assert_eq!(id.0[8] >> 6, 0b10);
        assert_ne!(id, MessageId::random());
    }

    #[test]
    fn type_bytes_round_trip() {
        for b in 0..=255u8 {
            if let Some(t) = MessageType::from_byte(b) {
                assert_eq!(t.byte(), b);
            }
        }
        assert_eq!(MessageType::from_byte(0x05), None);
    }
}
