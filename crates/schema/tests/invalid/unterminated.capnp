@0xd1a3c8f2b4e61014;
struct S {
  a @0 :Text = "abc;
}
