@0xd1a3c8f2b4e6101c;
using X = Nope;
struct G(T) { t @0 :T; }
struct S {
  using Y = G(List);
  a @0 :G(List);
}
interface I(T) {}
interface J extends(I(List)) {}
