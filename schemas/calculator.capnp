@0xd7a2e3c4b5f60718;
# The seed example: a calculator served over pseud.

interface Calculator {
  # Adds and remembers numbers.

  add @0 (first :Int32, second :Int32) -> (result :Int32);
  # Returns first + second.

  divide @1 (numerator :Float64, denominator :Float64) -> (quotient :Float64, remainder :Float64);
  # Divides; fails on a zero denominator.

  stats @2 () -> Stats;
  # What this calculator has done so far.
}

struct Stats {
  calls @0 :UInt64;
  lastOp @1 :Op = add;
  history @2 :List(Int32);
}

enum Op {
  add @0;
  divide @1;
}
