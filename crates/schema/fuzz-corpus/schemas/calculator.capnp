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

  getAdder @3 (offset :Int32) -> (adder :Adder);
  # A new adder object that starts at `offset` and lives on the server.

  evaluate @4 (value :Value) -> (result :Float64);
  # Reads `value` by calling it back (a callback the caller passes) and doubles it.
}

interface Adder {
  # A running total that stays where it was made.
  add @0 (x :Int32) -> (sum :Int32);
}

interface Value {
  # Something that can be read: passed by a client, called back by the server.
  read @0 () -> (value :Float64);
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
