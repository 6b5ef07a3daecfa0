# Statement-shape and value errors worded and placed as the official compiler's: the
# declarations stay (so later ordinals still count).
@0xd1a3c8f2b4e6f001;
interface I {}
struct G(T) { t @0 :T = 5; }
struct S {
  a @0 :AnyPointer = 5;
  b @1 :I = 5;
  c @2 :List(Int32) = [1, , 2];
  d @3 :group;
  e @4 :group { x @5 :Int8; }
}
struct B;
const k :Int32 = 1 { }
