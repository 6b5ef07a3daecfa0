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

/// The args of `call` on `object`: `[object id, interface id, method ordinal,
/// args, kwargs]`.
pub(crate) fn call_args(
    object: u64,
    interface_id: u64,
    ordinal: u16,
    args: Vec<Value>,
) -> Vec<Value> {
    vec![
        Value::from(object),
        Value::from(interface_id),
        Value::from(ordinal),
        Value::Array(args),
        Value::Map(Vec::new()),
    ]
}

/// The args of `cara.pipelined` on the result of `promise`: `[promise id, path,
/// interface id, method ordinal, args, kwargs]` (the path is empty: the result
/// itself is the object).
pub(crate) fn pipelined_args(
    promise: u64,
    interface_id: u64,
    ordinal: u16,
    args: Vec<Value>,
) -> Vec<Value> {
    vec![
        Value::from(promise),
        Value::Array(Vec::new()),
        Value::from(interface_id),
        Value::from(ordinal),
        Value::Array(args),
        Value::Map(Vec::new()),
    ]
}

/// The positional args of a received `call`, `cara.promise` or `cara.pipelined`,
/// read in order; a wrong one is a `TypeError` naming the call.
pub(crate) struct Positional {
    call: &'static str,
    rest: std::vec::IntoIter<Value>,
}

impl Positional {
    pub(crate) fn new(call: &'static str, args: Vec<Value>) -> Self {
        Positional {
            call,
            rest: args.into_iter(),
        }
    }

    fn wrong(&self, what: &str, must: &str) -> pseud::Fault {
        pseud::Fault::type_error(format!("{}(): the {what} must be {must}", self.call))
    }

    /// An id (an unsigned integer).
    pub(crate) fn id(&mut self, what: &str) -> Result<u64, pseud::Fault> {
        let v = self.rest.next();
        v.as_ref()
            .and_then(Value::as_u64)
            .ok_or_else(|| self.wrong(what, "an unsigned integer"))
    }

    /// A method ordinal.
    pub(crate) fn ordinal(&mut self) -> Result<u16, pseud::Fault> {
        let v = self.rest.next();
        v.as_ref()
            .and_then(Value::as_u64)
            .and_then(|o| u16::try_from(o).ok())
            .ok_or_else(|| self.wrong("method ordinal", "an integer from 0 to 65535"))
    }

    /// A str.
    pub(crate) fn text(&mut self, what: &str) -> Result<String, pseud::Fault> {
        match self.rest.next() {
            Some(Value::String(s)) => s.into_str().ok_or_else(|| self.wrong(what, "UTF-8")),
            _ => Err(self.wrong(what, "a str")),
        }
    }

    /// An array; absent or nil is empty.
    pub(crate) fn array(&mut self, what: &str) -> Result<Vec<Value>, pseud::Fault> {
        match self.rest.next() {
            Some(Value::Array(a)) => Ok(a),
            None | Some(Value::Nil) => Ok(Vec::new()),
            Some(_) => Err(self.wrong(what, "an array")),
        }
    }

    /// Keyword arguments: a map's str keys (others are dropped); absent is none.
    pub(crate) fn kwargs(&mut self) -> Vec<(String, Value)> {
        match self.rest.next() {
            Some(Value::Map(m)) => m
                .into_iter()
                .filter_map(|(k, v)| k.as_str().map(|k| (k.to_string(), v)))
                .collect(),
            _ => Vec::new(),
        }
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
