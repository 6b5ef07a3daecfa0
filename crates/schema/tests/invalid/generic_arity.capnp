@0xd1a3c8f2b4e6100f;
struct G(T) { v @0 :T; }
struct S {
  a @0 :G(Text, Text);
  b @1 :G(Int32);
}
