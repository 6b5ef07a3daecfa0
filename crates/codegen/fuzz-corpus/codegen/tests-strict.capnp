@0xbd57d0e490625d46;
# Argument binding rules: required parameters, a schema default, nullable types.

interface Strict {
  f @0 (a :Int32, b :Text, c :Int32 = 7, d :List(Int32), e :Point) -> (r :Text);
}

struct Point {
  x @0 :Int32;
  y @1 :Int32;
}
