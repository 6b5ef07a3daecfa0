@0xd1a3c8f2b4e61003;
struct S {
  a @0 :Foo;
  b @1 :List(Bar);
}
