@0xd1a3c8f2b4e6000d;
# Retroactively unionized fields and union ordinals.

struct Retro {
  a @0 :UInt32;
  u @2! :union {
    b @1 :UInt64;
    c @3 :Text;
  }
  d @4 :Bool;
}
