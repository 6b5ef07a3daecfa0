@0xd1a3c8f2b4e60002;
# Explicit and derived ids, nesting.

struct Explicit @0xe0a1b2c3d4e5f601 {
  a @0 :Int32;
  struct Inner @0xe0a1b2c3d4e5f602 { b @0 :Bool; }
}

struct Derived {
  struct Nested {
    struct Deeper { c @0 :Text; }
  }
  enum Kind { one @0; two @1; }
  const answer :Int32 = 42;
}

interface Iface {
  struct InIface { d @0 :UInt8; }
}
