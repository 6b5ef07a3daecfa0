# Declarations in blocks whose grammar does not have them: parse errors, as in the
# official parser (which says only "Parse error.").
@0xd1a3c8f2b4e6f3b0;
f @0 :Int8;
struct S {
  x @0 :Int8;
  e @1;
  @0xd1a3c8f2b4e6f3b1;
}
interface I {
  g @0 :Int8;
  u :union { a @1 :Int8; b @2 :Int8; }
}
enum E {
  a @0;
  struct Nested {}
  const c :Int32 = 1;
}
