@0xd1a3c8f2b4e61008;
struct S {
  a @0 Int32;
  b @1 :Int32;
}
struct T { c @0 :Text = ; }
