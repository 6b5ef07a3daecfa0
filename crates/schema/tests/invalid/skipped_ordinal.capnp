@0xd1a3c8f2b4e61002;
struct S {
  a @0 :Int32;
  b @2 :Int32;
}
