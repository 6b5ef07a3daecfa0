@0xd1a3c8f2b4e60014;
# Generic methods: implicit parameters in named and typed parameter lists.

struct Pair(A, B) {
  a @0 :A;
  b @1 :B;
}

interface Store(K) {
  get @0 [V] (key :K) -> (value :V);
  pair @1 [X, Y] Pair(X, Y) -> Pair(Y, X);
  nested @2 [T] (p :Pair(T, K)) -> (q :Pair(K, T));
  plain @3 Pair(K, Text) -> Pair(Text, K);
}

interface Child extends(Store(Data)) {
  more @0 [Z] (z :Z) -> (s :Store(Z));
}
