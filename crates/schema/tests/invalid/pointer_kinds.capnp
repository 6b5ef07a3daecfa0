@0xd1a3c8f2b4e6101a;
struct G(T) { t @0 :T; }
struct S {
  a @0 :G(AnyStruct);
  b @1 :List(AnyStruct);
  c @2 :Object;
  d @3 :G(Capability);
}
