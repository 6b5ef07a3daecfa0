//! ZMTP 3.1 framing (RFC 23/37): the greeting, frames, commands and their
//! metadata properties. Pure encoding and decoding, no I/O.

use bytes::{Buf, Bytes, BytesMut};

use super::ZmtpError;

/// Another frame of the same message follows.
pub(crate) const MORE: u8 = 0x01;
/// The size is 8 bytes, not 1.
pub(crate) const LONG: u8 = 0x02;
/// A command (handshake, PING/PONG), not a message frame.
pub(crate) const COMMAND: u8 = 0x04;

/// Length of the greeting both sides send first.
pub(crate) const GREETING_LEN: usize = 64;

/// The greeting for `mechanism` (`NULL`, `PLAIN`, `CURVE`); ZMTP 3.1.
pub(crate) fn greeting(mechanism: &str, as_server: bool) -> [u8; GREETING_LEN] {
    let mut g = [0u8; GREETING_LEN];
    g[0] = 0xff;
    g[9] = 0x7f;
    g[10] = 3;
    g[11] = 1;
    let name = mechanism.as_bytes();
    g[12..12 + name.len()].copy_from_slice(name);
    g[32] = u8::from(as_server);
    g
}

/// What a peer's greeting says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Greeting {
    /// The minor version: 0 (ZMTP 3.0, no PING/PONG) or 1.
    pub minor: u8,
    /// The mechanism name, trailing NULs stripped.
    pub mechanism: String,
}

/// Parses a peer's greeting; anything but ZMTP 3.x is refused.
pub(crate) fn parse_greeting(g: &[u8; GREETING_LEN]) -> Result<Greeting, ZmtpError> {
    if g[0] != 0xff || g[9] & 0x01 != 0x01 {
        return Err(ZmtpError::Protocol("the peer does not speak ZMTP".into()));
    }
    if g[10] < 3 {
        return Err(ZmtpError::Protocol(format!(
            "the peer speaks ZMTP {}.x; 3.0 or later is needed",
            g[10]
        )));
    }
    let raw = &g[12..32];
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    let mechanism = String::from_utf8_lossy(&raw[..end]).into_owned();
    // A peer with a higher major version speaks our version too (RFC 23).
    let minor = if g[10] > 3 { 1 } else { g[11] };
    Ok(Greeting { minor, mechanism })
}

/// Appends one frame.
pub(crate) fn encode_frame(out: &mut Vec<u8>, flags: u8, body: &[u8]) {
    if body.len() <= 255 {
        out.push(flags);
        out.push(body.len() as u8);
    } else {
        out.push(flags | LONG);
        out.extend_from_slice(&(body.len() as u64).to_be_bytes());
    }
    out.extend_from_slice(body);
}

/// Appends a multipart message: every frame but the last has MORE.
#[cfg(test)]
pub(crate) fn encode_message(out: &mut Vec<u8>, frames: &[&[u8]]) {
    for (i, frame) in frames.iter().enumerate() {
        let flags = if i + 1 < frames.len() { MORE } else { 0 };
        encode_frame(out, flags, frame);
    }
}

/// The most [`decode_frame`] reserves ahead for a frame it has only the header of:
/// the default frame limit (twice the 16 MiB message limit).
const RESERVE_LIMIT: usize = 32 * 1024 * 1024;

/// Takes the next whole frame off `buf`: `Ok(None)` until one is complete.
/// Frames over `max` bytes are refused before they are buffered.
pub(crate) fn decode_frame(
    buf: &mut BytesMut,
    max: usize,
) -> Result<Option<(u8, Bytes)>, ZmtpError> {
    let Some(&flags) = buf.first() else {
        return Ok(None);
    };
    if flags & !(MORE | LONG | COMMAND) != 0 {
        return Err(ZmtpError::Protocol(format!(
            "frame flags {flags:#04x} are reserved"
        )));
    }
    let (header, size) = if flags & LONG != 0 {
        let Some(bytes) = buf.get(1..9) else {
            return Ok(None);
        };
        let mut size = [0u8; 8];
        size.copy_from_slice(bytes);
        (9, u64::from_be_bytes(size))
    } else {
        let Some(&size) = buf.get(1) else {
            return Ok(None);
        };
        (2, u64::from(size))
    };
    // `header + size` overflows only under a limit near usize::MAX (a saturated
    // `max_message_size`): no frame that big can arrive anyway.
    let whole = usize::try_from(size)
        .ok()
        .filter(|_| size <= max as u64)
        .and_then(|size| size.checked_add(header));
    let Some(whole) = whole else {
        return Err(ZmtpError::TooLarge { size, limit: max });
    };
    if buf.len() < whole {
        // The size is the peer's word: room for at most RESERVE_LIMIT of it now,
        // the rest as it arrives (reserving a claimed terabyte aborts the process).
        buf.reserve((whole - buf.len()).min(RESERVE_LIMIT));
        return Ok(None);
    }
    buf.advance(header);
    Ok(Some((flags, buf.split_to(whole - header).freeze())))
}

/// A command body: `[name length] [name] [data]`.
pub(crate) fn command(name: &str, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(1 + name.len() + data.len());
    body.push(name.len() as u8);
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(data);
    body
}

/// Splits a command body into its name and data.
pub(crate) fn parse_command(body: &[u8]) -> Result<(&[u8], &[u8]), ZmtpError> {
    let Some((&len, rest)) = body.split_first() else {
        return Err(ZmtpError::Protocol("an empty command".into()));
    };
    if rest.len() < usize::from(len) {
        return Err(ZmtpError::Protocol(
            "a command name longer than its frame".into(),
        ));
    }
    Ok(rest.split_at(usize::from(len)))
}

/// Metadata properties (RFC 37): name length u8, name, value length u32 BE, value.
pub(crate) fn encode_properties(props: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in props {
        out.push(name.len() as u8);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(value.len() as u32).to_be_bytes());
        out.extend_from_slice(value);
    }
    out
}

/// Peer metadata: property names (compared case-insensitively) and values.
pub(crate) type Properties = Vec<(String, Vec<u8>)>;

/// Parses metadata properties.
pub(crate) fn parse_properties(mut data: &[u8]) -> Result<Properties, ZmtpError> {
    let bad = || ZmtpError::Protocol("malformed metadata".into());
    let mut props = Vec::new();
    while let Some((&len, rest)) = data.split_first() {
        let len = usize::from(len);
        if len == 0 || rest.len() < len + 4 {
            return Err(bad());
        }
        let name = String::from_utf8_lossy(&rest[..len]).into_owned();
        let mut size = [0u8; 4];
        size.copy_from_slice(&rest[len..len + 4]);
        let size = u32::from_be_bytes(size) as usize;
        let rest = &rest[len + 4..];
        if rest.len() < size {
            return Err(bad());
        }
        props.push((name, rest[..size].to_vec()));
        data = &rest[size..];
    }
    Ok(props)
}

/// The value of property `name`, if present.
pub(crate) fn property<'a>(props: &'a Properties, name: &str) -> Option<&'a [u8]> {
    props
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

/// An ERROR command's body: `\x05ERROR`, the reason's length (u8) and the
/// reason, cut at 255 bytes (on a character boundary).
pub(crate) fn error_command(reason: &str) -> Vec<u8> {
    let mut end = reason.len().min(255);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut data = vec![end as u8];
    data.extend_from_slice(&reason.as_bytes()[..end]);
    command("ERROR", &data)
}

/// libzmq's PLAIN mechanism spells ERROR `"\x05ERROR"` in C, where the hex
/// escape takes the `E` too: its PLAIN servers send, and its PLAIN clients
/// expect, `0x5e "RROR"` (a 5-byte prefix) instead of `0x05 "ERROR"`. We send
/// that form under PLAIN and accept both.
pub(crate) const LIBZMQ_PLAIN_ERROR: &[u8] = b"\x5eRROR";

/// libzmq's PLAIN form of an ERROR command (see [`LIBZMQ_PLAIN_ERROR`]).
pub(crate) fn libzmq_plain_error(reason: &str) -> Vec<u8> {
    let reason = &reason.as_bytes()[..reason.len().min(255)];
    let mut body = LIBZMQ_PLAIN_ERROR.to_vec();
    body.push(reason.len() as u8);
    body.extend_from_slice(reason);
    body
}

/// The reason an ERROR command's data gives.
pub(crate) fn error_reason(data: &[u8]) -> String {
    match data.split_first() {
        Some((&len, rest)) => {
            String::from_utf8_lossy(&rest[..usize::from(len).min(rest.len())]).into_owned()
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_short_and_long() {
        let mut out = Vec::new();
        encode_message(&mut out, &[b"", b"v1", &[7u8; 300]]);
        assert_eq!(&out[..4], &[MORE, 0, MORE, 2]);
        let mut buf = BytesMut::from(&out[..]);
        let mut got = Vec::new();
        while let Some((flags, body)) = decode_frame(&mut buf, 1000).unwrap() {
            got.push((flags, body.len()));
        }
        assert_eq!(got, vec![(MORE, 0), (MORE, 2), (LONG, 300)]);
        assert!(buf.is_empty());
    }

    #[test]
    fn partial_frames_wait_and_oversized_fail() {
        let mut buf = BytesMut::from(&[0u8, 5, 1, 2][..]);
        assert!(decode_frame(&mut buf, 10).unwrap().is_none());
        let mut big = BytesMut::from(&[LONG, 0, 0, 0, 0, 0, 1, 0, 0][..]);
        assert!(matches!(
            decode_frame(&mut big, 1000),
            Err(ZmtpError::TooLarge { .. })
        ));
        let mut reserved = BytesMut::from(&[0x80u8, 0][..]);
        assert!(decode_frame(&mut reserved, 10).is_err());
    }

    /// Fuzzing found these (zmtp::fuzz::frames): under a limit near usize::MAX, the
    /// header's size overflowed `header + size`, or was reserved whole and aborted.
    #[test]
    fn huge_sizes_under_a_huge_limit_neither_overflow_nor_reserve() {
        let mut overflow =
            BytesMut::from(&[LONG, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfa][..]);
        assert!(matches!(
            decode_frame(&mut overflow, usize::MAX),
            Err(ZmtpError::TooLarge { .. })
        ));
        // A READY header with LONG set: 0x2f05_5245_4144_59d5 bytes claimed.
        let mut claimed = BytesMut::from(
            &[
                COMMAND | LONG,
                0x2f,
                0x05,
                b'R',
                b'E',
                b'A',
                b'D',
                b'Y',
                0xd5,
                7,
            ][..],
        );
        assert!(decode_frame(&mut claimed, usize::MAX).unwrap().is_none());
        assert!(claimed.capacity() <= RESERVE_LIMIT + 64);
        assert_eq!(claimed.len(), 10);
    }

    #[test]
    fn properties_and_greeting_parse() {
        let data = encode_properties(&[("Socket-Type", b"ROUTER"), ("Identity", b"")]);
        let props = parse_properties(&data).unwrap();
        assert_eq!(property(&props, "socket-type"), Some(&b"ROUTER"[..]));
        assert_eq!(property(&props, "Identity"), Some(&b""[..]));
        assert!(parse_properties(&data[..data.len() - 3]).is_err());
        let g = parse_greeting(&greeting("PLAIN", true)).unwrap();
        assert_eq!((g.minor, g.mechanism.as_str()), (1, "PLAIN"));
        let mut old = greeting("NULL", false);
        old[10] = 2;
        assert!(parse_greeting(&old).is_err());
        let error = error_command("400");
        let (name, data) = parse_command(&error).unwrap();
        assert_eq!((name, error_reason(data).as_str()), (&b"ERROR"[..], "400"));
    }
}
