//! What the bench binaries share: the bytes of ZMTP 3.1 (RFC 23) a raw NULL
//! peer needs — written here on purpose independently of `pseud`'s engine, so
//! that a bench peer built on it checks the engine rather than mirroring it.

/// Frame flags.
pub const MORE: u8 = 0x01;
/// The frame size takes 8 bytes.
pub const LONG: u8 = 0x02;
/// A command, not a message frame.
pub const COMMAND: u8 = 0x04;

/// The 64-byte greeting of a NULL client: signature `ff 00..00 7f`, version
/// 3.1, mechanism "NULL" padded with zeros, as-server 0, filler.
pub fn greeting() -> [u8; 64] {
    let mut g = [0u8; 64];
    g[0] = 0xff;
    g[9] = 0x7f;
    g[10] = 3;
    g[11] = 1;
    g[12..16].copy_from_slice(b"NULL");
    g
}

/// Appends one frame: flags, size (1 byte, or 8 bytes big-endian with LONG), body.
pub fn push_frame(out: &mut Vec<u8>, flags: u8, body: &[u8]) {
    match u8::try_from(body.len()) {
        Ok(short) => out.extend_from_slice(&[flags, short]),
        Err(_) => {
            out.push(flags | LONG);
            out.extend_from_slice(&(body.len() as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(body);
}

/// Appends a command frame: `[name length] [name] [data]`.
pub fn push_command(out: &mut Vec<u8>, name: &str, data: &[u8]) {
    let mut body = Vec::with_capacity(1 + name.len() + data.len());
    body.push(name.len() as u8);
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(data);
    push_frame(out, COMMAND, &body);
}

/// The properties of a READY command with this socket type.
pub fn ready_properties(socket_type: &str) -> Vec<u8> {
    let name = b"Socket-Type";
    let mut props = vec![name.len() as u8];
    props.extend_from_slice(name);
    props.extend_from_slice(&(socket_type.len() as u32).to_be_bytes());
    props.extend_from_slice(socket_type.as_bytes());
    props
}
