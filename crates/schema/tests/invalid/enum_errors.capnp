@0xd1a3c8f2b4e61011;
enum E {
  a @0;
  b @0;
  c @5;
}
struct S { e @0 :E = nonexistent; }
