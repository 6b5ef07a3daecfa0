@0xd1a3c8f2b4e60008;
# Generic structs and brands.

struct Pair(K, V) {
  key @0 :K;
  value @1 :V;
  struct Entry { k @0 :K; }
  inner @2 :Entry;
}

struct Box(T) {
  item @0 :T;
  pairs @1 :List(Pair(T, Text));
}

struct User {
  p @0 :Pair(Text, Data);
  b @1 :Box(Pair(Text, Text));
  e @2 :Pair(Text, Text).Entry;
  bx @3 :Box(AnyPointer);
}
