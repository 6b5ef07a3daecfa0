@0xd1a3c8f2b4e6100b;
struct S {
  union {
    a @0 :Int32;
  }
}
