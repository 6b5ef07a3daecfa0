# Annotations recognized by the capnproto-rust code generator (capnpc-rust), bundled so that
# schemas importing "/capnp/rust.capnp" compile without extra files.  Ids match capnpc-rust.
@0x83b3c14c3c8dd083;

annotation name @0xc2fe4c6d100166d0 (field, struct, enum, enumerant, union, group) :Text;
# Rename something in the generated code.

annotation parentModule @0xabee386cd1450364 (file) :Text;
# The Rust module path under which the generated code for this file is placed.

annotation option @0xabfef22c4ee1964e (field) :Void;
# Make the generated getters return Option<T> instead of T.
