//! Id derivation, bit-for-bit the same as the official compiler (`compiler/type-id.c++`):
//! every derived id is the first 8 bytes (big-endian) of an MD5 digest with the top bit set.

use md5::{Digest, Md5};

fn finish(hasher: Md5) -> u64 {
    let digest = hasher.finalize();
    let mut result: u64 = 0;
    for b in digest.iter().take(8) {
        result = (result << 8) | u64::from(*b);
    }
    result | (1u64 << 63)
}

/// Id of a nested declaration without an explicit id: MD5(parent id LE ‖ name).
pub fn child_id(parent: u64, name: &str) -> u64 {
    let mut h = Md5::new();
    h.update(parent.to_le_bytes());
    h.update(name.as_bytes());
    finish(h)
}

/// Id of the group or named union at `index` in its parent's field list:
/// MD5(parent id LE ‖ index as u16 LE).
pub fn group_id(parent: u64, index: u16) -> u64 {
    let mut h = Md5::new();
    h.update(parent.to_le_bytes());
    h.update(index.to_le_bytes());
    finish(h)
}

/// Which of a method's two implicit structs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodList {
    /// `$Params`.
    Params,
    /// `$Results`.
    Results,
}

impl MethodList {
    /// The struct's name suffix, as the official compiler spells it.
    pub fn suffix(self) -> &'static str {
        match self {
            MethodList::Params => "$Params",
            MethodList::Results => "$Results",
        }
    }
}

/// Id of a method's implicit `$Params` / `$Results` struct:
/// MD5(interface id LE ‖ method ordinal as u16 LE ‖ 0 for params, 1 for results).
pub fn method_params_id(parent: u64, ordinal: u16, list: MethodList) -> u64 {
    let mut h = Md5::new();
    h.update(parent.to_le_bytes());
    h.update(ordinal.to_le_bytes());
    h.update([u8::from(list == MethodList::Results)]);
    finish(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_official_ids() {
        // From `capnp compile -o-` on a file with id 0xbf5147cbbecf40c1 declaring `struct Foo`.
        assert_eq!(child_id(0xbf5147cbbecf40c1, "Foo"), 12623691606314320510);
        assert_eq!(group_id(17252933339600371626, 2), 15804019937165135827);
        assert_eq!(group_id(17252933339600371626, 3), 9405598744873841172);
        assert_eq!(
            method_params_id(10818602132200013616, 0, MethodList::Params),
            13859066175462899850
        );
    }
}
