@0xd1a3c8f2b4e6101d;
struct S {
  m1 :group {
    m3 @1 :Text;
    m4 @0 :Int32;
  }
  union {
    m2 :union {
      m5 @4 :Int64;
      m6 @3 :UInt32;
    }
    m7 @2 :Int16;
  }
}
