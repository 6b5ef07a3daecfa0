@0xb1d5e6f7a8c9d0e1;
# Schema features exercised over the wire by the cara runtime tests.

struct Field {
  # cara's own example: {field: "x"} packs as 81 00 a1 78.
  field @0 :Text;
}

enum Color {
  red @0;
  green @1;
  blue @2;
}

struct Everything {
  flag @0 :Bool = true;
  i8 @1 :Int8 = -8;
  i16 @2 :Int16;
  i32 @3 :Int32 = 32;
  i64 @4 :Int64 = -64;
  u8 @5 :UInt8;
  u16 @6 :UInt16 = 16;
  u32 @7 :UInt32;
  u64 @8 :UInt64 = 0xffffffffffffffff;
  f32 @9 :Float32 = 1.5;
  f64 @10 :Float64 = inf;
  text @11 :Text = "hello";
  data @12 :Data = 0x"00 ff";
  color @13 :Color = green;
  list @14 :List(Int32) = [1, 2, 3];
  nested @15 :List(List(Text));
  point @16 :Point = (x = 1, y = 2);
  nothing @17 :Void;
  any @18 :AnyPointer;

  union {
    circle @19 :Float64;
    square @20 :Point;
    empty @21 :Void;
  }

  position :group {
    lat @22 :Float64;
    lon @23 :Float64;
  }

  shape :union {
    round @24 :Int32;
    flat @25 :Text;
  }
}

struct Point {
  x @0 :Float64;
  y @1 :Float64;
}

struct Tree {
  # Recursive: a tree of labelled nodes.
  label @0 :Text;
  children @1 :List(Tree);
  parent @2 :Tree;
}

struct Pair(A, B) {
  first @0 :A;
  second @1 :B;
}

struct UsesGenerics {
  named @0 :Pair(Text, List(Int32));
  open @1 :Pair;
}

interface Base {
  ping @0 () -> (reply :Text);
}

interface Sub extends(Base) {
  echo @0 (value :Everything) -> (value :Everything);
  swap @1 (pair :Pair(Text, Data)) -> (first :Data, second :Text);
  nothing @2 ();
}

interface Store(T) {
  put @0 (value :T) -> (count :UInt32);
  take @1 () -> (value :T);
}

const answer :Int32 = 42;
const greeting :Text = "hi";
const origin :Point = (x = 0, y = 0);

interface Generic {
  identity @0 [T] (value :T) -> (value :T);
  greet @1 (name :Text = "world", times :UInt8 = 1) -> (text :Text);
}

interface Echo {
  echo @0 (x :Text) -> (x :Text);
}

interface Clash extends(Echo) {
  echo @0 (x :Int32) -> (x :Int32);
  new @1 () -> (made :Bool);
}

struct Outer {
  interface Nested {
    ping @0 () -> (pong :Text);
  }
}
