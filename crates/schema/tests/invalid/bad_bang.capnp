@0xd1a3c8f2b4e61018;
struct S {
  a @0! :Int32;
  u @1 :union {
    b @2 :Int32;
    c @3 :Int32;
  }
}
