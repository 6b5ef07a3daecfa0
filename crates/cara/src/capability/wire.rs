//! How capabilities look on the wire: extension codes, payloads and the names of
//! the calls that act on exported objects.

use pseud::Value;

/// Extension type of a capability exported by the sender.
pub const EXT_EXPORTED: i8 = 100;
/// Extension type of a capability the receiver exported (passed back to its owner).
pub const EXT_YOURS: i8 = 101;
/// Extension type of a capability in a call that never leaves the process.
pub(crate) const EXT_LOOPBACK: i8 = 102;
/// The WORK name of a call on an exported object.
pub const CALL: &str = "call";
/// The WORK name that releases references to an exported object.
pub const RELEASE: &str = "cara.release";
/// The WORK name of a call whose result later calls may target before it
/// arrives: `[promise id, name, args, kwargs]` runs `name` (pipelining).
pub(crate) const PROMISE: &str = "cara.promise";
/// The WORK name of a call on an object a `cara.promise` call returns:
/// `[promise id, path, interface id, method ordinal, args, kwargs]`.
pub(crate) const PIPELINED: &str = "cara.pipelined";
/// The WORK name that ends a promise: `[promise id]`.
pub(crate) const FORGET: &str = "cara.forget";
/// The error class of a pipelined call on a promise the peer does not know (yet).
pub(crate) const UNKNOWN_PROMISE: &str = "UnknownPromiseError";
/// The error class of a call on an object the caller may not reach (not exported
/// to it, no such method), or of a forwarded call that failed on the way.
pub const CAPABILITY_ERROR: &str = "CapabilityError";

/// Whether an extension code is one of the capability codes.
pub(crate) fn is_capability(code: i8) -> bool {
    matches!(code, EXT_EXPORTED | EXT_YOURS | EXT_LOOPBACK)
}

/// A payload naming object `id`: a msgpack integer.
pub(crate) fn id_payload(id: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    pseud::value::write_value(&mut bytes, &Value::from(id));
    bytes
}

/// A client's export: `[object id, its user id]`, as the original cara sends it,
/// so that a server can route calls on the object back by user id.
pub(crate) fn client_payload(id: u64, user_id: &[u8]) -> Vec<u8> {
    let body = Value::Array(vec![Value::from(id), Value::Binary(user_id.to_vec())]);
    let mut bytes = Vec::new();
    pseud::value::write_value(&mut bytes, &body);
    bytes
}

/// The object id in a payload of either form (the original cara's client sends
/// its user id as a msgpack str, ours as bin: only the id matters here).
pub(crate) fn read_id(payload: &[u8]) -> Option<u64> {
    match pseud::value::read_value(payload) {
        Ok(Value::Array(items)) => items.first().and_then(Value::as_u64),
        Ok(v) => v.as_u64(),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_forms() {
        assert_eq!(id_payload(5), [0x05]);
        assert_eq!(
            client_payload(5, b"test"),
            [0x92, 0x05, 0xc4, 4, b't', b'e', b's', b't']
        );
        // The original cara client's form: [id, user id as str].
        assert_eq!(
            read_id(&[0x92, 0x05, 0xa4, b't', b'e', b's', b't']),
            Some(5)
        );
        assert_eq!(read_id(&client_payload(7, b"x")), Some(7));
        assert_eq!(
            read_id(&[0xcf, 0, 0, 0x7f, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]),
            Some(0x7faa_bbcc_ddee)
        );
        assert_eq!(read_id(&[0xa1, b'x']), None);
        assert_eq!(read_id(&[0xc1]), None);
    }
}
