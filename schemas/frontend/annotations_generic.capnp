# Annotation applications through generic brands and nested scopes (capnproto's test.capnp:
# `struct S $TestGenerics(Text, Data).ann("foo")`), and `using` aliases of annotations and
# constants, which are named in lower case like what they alias (`using persistent =
# import "/capnp/persistent.capnp".persistent;`).
@0xd1a3c8f2b4e6f310;

struct Gen(Foo, Bar) {
  annotation ann(struct, field, const, enum, interface, method) :Foo;
  annotation plain(*) :Text;
  annotation pair(struct) :Bar;
  struct Inner(Baz) {
    annotation deep(*) :Baz;
    annotation outer(*) :Foo;
  }
  value @0 :Foo;
}

struct Outer {
  struct Nested {
    annotation note(*) :Text;
  }
}

using ann = Gen(Text, Data).ann;
using plainAnn = Gen.plain;
using note = Outer.Nested.note;
const answer :Int32 = 42;
using theAnswer = answer;
using persistent = import "/capnp/persistent.capnp".persistent;

struct UsesGen $Gen(Text, Data).ann("foo") $Gen(Text, Data).pair(0x"0102") {
  a @0 :Int32 $Gen(Data, Text).ann(0x"ff") $Gen.plain("unbound");
  b @1 :Text $Gen(Text, Text).Inner(Text).deep("deep") $Gen(List(Int32), Text).Inner(Data).outer([1, 2]);
  c @2 :Int32 = .theAnswer $Outer.Nested.note("nested") $note("alias");
  d @3 :Text $ann("through an alias") $plainAnn("alias of unbound");
}

const value :Int8 = 0 $Gen(Text, Text).ann("on a const");
const viaAlias :Int32 = .theAnswer $Gen(UsesGen, Text).ann((a = 1, b = "x"));

interface Saved $persistent {
  m @0 () -> () $Gen(Text, Text).ann("on a method");
}

enum E $Gen(List(Text), Text).ann(["x", "y"]) {
  a @0;
}
