@0xd1a3c8f2b4e6100e;
const k :Int32 = 1;
struct S {
  a @0 :k;
  b @1 :Int32(Text);
}
