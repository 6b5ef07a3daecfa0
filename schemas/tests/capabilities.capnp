@0xc3a5b7d9e1f20314;
# Live capabilities: interfaces passed and returned across the wire.

interface Value {
  read @0 () -> (value :Float64);
}

interface Adder {
  add @0 (x :Int32) -> (sum :Int32);
  # Adds x to the running total and returns it.
}

interface SubAdder extends(Adder) {
  twice @0 (x :Int32) -> (sum :Int32);
}

struct Holder {
  name @0 :Text;
  adder @1 :Adder;
  many @2 :List(Adder);
}

interface Calc {
  getAdder @0 (offset :Int32) -> (adder :Adder);
  getSubAdder @1 (offset :Int32) -> (adder :SubAdder);
  evaluate @2 (value :Value) -> (result :Float64);
  echo @3 (adder :Adder) -> (adder :Adder, wasLocal :Bool);
  store @4 (adder :Adder);
  useStored @5 (x :Int32) -> (sum :Int32);
  fetchStored @6 () -> (adder :Adder);
  holder @7 (holder :Holder) -> (holder :Holder);
  factory @8 () -> (factory :Factory);
}

interface Factory {
  make @0 (offset :Int32) -> (adder :Adder);
}
