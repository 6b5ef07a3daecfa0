//! Standard schema files shipped inside the crate, so that `/capnp/...` imports resolve
//! without the C++ tool installed.  They are the files of Cap'n Proto 0.9.2 (MIT licensed),
//! with their official ids, plus capnproto-rust's `rust.capnp`.

/// (canonical name, contents) of every bundled file.
pub const FILES: &[(&str, &str)] = &[
    ("capnp/c++.capnp", include_str!("../std/c++.capnp")),
    ("capnp/schema.capnp", include_str!("../std/schema.capnp")),
    ("capnp/stream.capnp", include_str!("../std/stream.capnp")),
    (
        "capnp/persistent.capnp",
        include_str!("../std/persistent.capnp"),
    ),
    ("capnp/rpc.capnp", include_str!("../std/rpc.capnp")),
    (
        "capnp/rpc-twoparty.capnp",
        include_str!("../std/rpc-twoparty.capnp"),
    ),
    ("capnp/compat/json.capnp", include_str!("../std/json.capnp")),
    ("capnp/rust.capnp", include_str!("../std/rust.capnp")),
];

#[cfg(test)]
mod tests {
    use super::FILES;

    #[test]
    fn bundled_files_compile_with_official_ids() {
        let expected = [
            ("capnp/c++.capnp", 0xbdf87d7bb8304e81u64),
            ("capnp/schema.capnp", 0xa93fc509624c72d9),
            ("capnp/stream.capnp", 0x86c366a91393f3f8),
            ("capnp/persistent.capnp", 0xb8630836983feed7),
            ("capnp/rpc.capnp", 0xb312981b2552a250),
            ("capnp/rpc-twoparty.capnp", 0xa184c7885cdaf2a1),
            ("capnp/compat/json.capnp", 0x8ef99297a43a5e34),
            ("capnp/rust.capnp", 0x83b3c14c3c8dd083),
        ];
        for (name, id) in expected {
            let src = FILES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, s)| *s)
                .expect("bundled");
            let set = crate::Compiler::new()
                .compile_sources(&[(name, src)])
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(set.requested_files()[0].id, id, "{name}");
        }
    }

    #[test]
    fn bundled_files_equal_installed_ones() {
        // When the official headers are installed, the bundled copies must be identical.
        for (name, src) in FILES {
            let path = std::path::Path::new("/usr/include").join(name);
            if let Ok(installed) = std::fs::read_to_string(&path) {
                assert_eq!(&installed, src, "{name} differs from {}", path.display());
            }
        }
    }
}
