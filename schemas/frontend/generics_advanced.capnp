@0xd1a3c8f2b4e6000c;
# Generic scopes, inheritance, aliases to branded types, generic methods.

struct Outer(A) {
  struct Middle(B) {
    struct Leaf {
      a @0 :A;
      b @1 :B;
      self @2 :Leaf;
      mid @3 :Middle(Text);
    }
    leaf @0 :Leaf;
    other @1 :Middle(Data).Leaf;
  }
  middle @0 :Middle(A);
  alias @1 :TextMiddle;
  using TextMiddle = Middle(Text);
  list @2 :List(Middle(A).Leaf);
}

using Concrete = Outer(Text).Middle(Data);

struct UseThem {
  c @0 :Concrete;
  l @1 :Concrete.Leaf;
  o @2 :Outer(List(Text));
  n @3 :Outer(Outer(Data));
}

interface GenIface(T) {
  struct Payload { value @0 :T; }
  send @0 (p :Payload) -> (echo :T);
  typed @1 Outer(T) -> Payload;
  implicit @2 [X, Y] (x :X, y :Y, t :T) -> (x :X);
}

interface Sub extends(GenIface(Text)) {
  extra @0 () -> (s :GenIface(Data).Payload);
}

const outerConst :Outer(Text) = (middle = (leaf = (a = "x", b = "y")));
