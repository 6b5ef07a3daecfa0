# `embed` of a struct constant (the file is a Cap'n Proto message, read with the layouts
# compiled here), and constants of any pointer type stored in `AnyPointer`, `AnyStruct` and
# `AnyList` fields (capnproto's test.capnp does both).
@0xd1a3c8f2b4e6f340;

struct Inner {
  a @0 :Int32 = 7;
  t @1 :Text;
  flag @2 :Bool = true;
}

enum Color {
  red @0;
  green @1;
}

struct Outer {
  i @0 :Inner;
  list @1 :List(Inner);
  nums @2 :List(UInt16);
  u :union {
    x @3 :Void;
    y @4 :Float64;
  }
  g :group {
    n @5 :Int8;
    s @6 :Text;
  }
  e @7 :Color;
  bits @8 :List(Bool);
  texts @9 :List(Text);
}

struct AnyHolder {
  any @0 :AnyPointer;
  st @1 :AnyStruct;
  ls @2 :AnyList;
}

const plain :Inner = (a = 1, t = "plain");
const nums :List(Int32) = [1, 2, 3];
const holder :AnyHolder = (any = .plain, st = .plain, ls = .nums);
const embedded :Outer = embed "data/outer.bin";
const embeddedHolder :AnyHolder = (any = .embedded);
