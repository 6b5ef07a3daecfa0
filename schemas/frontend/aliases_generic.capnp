@0xd1a3c8f2b4e60012;
# Aliases to generic types and aliases inside generic scopes.

struct Gen(T) {
  value @0 :T;
  struct Inner { t @0 :T; }
  using MyInner = Inner;
  using TextGen = Gen(Text);
  a @1 :MyInner;
  b @2 :TextGen;
  c @3 :TextGen.Inner;
  using Same = Gen;
  d @4 :Same;
  e @5 :Same.Inner;
  f @6 :Gen;
}

using GenData = Gen(Data);
using GenDataInner = Gen(Data).Inner;

struct Uses {
  x @0 :GenData;
  y @1 :GenDataInner;
  z @2 :GenData.Inner;
  w @3 :Gen(Text).MyInner;
}

interface Svc(P) {
  using Alias = P;
  m @0 (a :Alias) -> ();
}
