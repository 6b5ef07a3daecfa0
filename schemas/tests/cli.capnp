@0xffeb594117298126;
# Called through `cara call` in crates/cli/tests/call.rs: every kind of argument
# (an enum, a list, a nested struct, a union, a group, Data), a capability result,
# a nested interface that inherits, and methods named like those of the Python peer
# build-support/interop/pseud_peer.py (add, echo, fail).

enum Kind {
  tool @0;
  toy @1;
  food @2;
}

struct Size {
  width @0 :UInt16;
  height @1 :UInt16;
}

struct Item {
  name @0 :Text;
  kind @1 :Kind;
  tags @2 :List(Text);
  size @3 :Size;
  union {
    weight @4 :Float32;
    count @5 :UInt32;
    unknown @6 :Void;
  }
  place :group {
    shelf @7 :UInt8;
    row @8 :Int8;
  }
  blob @9 :Data;
}

interface Shop {
  echo @0 (item :Item) -> (item :Item);
  add @1 (a :Int64, b :Int64) -> (sum :Int64);
  fail @2 ();
  total @3 (items :List(Item)) -> (count :UInt32, kinds :List(Kind));
  clerk @4 () -> (clerk :Clerk);
}

interface Clerk {
  hello @0 () -> (text :Text);
}

struct Outer {
  interface Counter extends(Shop) {
    next @0 () -> (n :UInt64);
  }
}
