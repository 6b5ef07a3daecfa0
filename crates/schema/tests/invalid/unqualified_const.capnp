@0xd1a3c8f2b4e6100d;
const k :Int32 = 1;
struct S {
  a @0 :Int32 = k;
}
