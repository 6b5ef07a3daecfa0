@0xd1a3c8f2b4e61001;
struct S {
  a @0 :Int32;
  b @0 :Int32;
}
