@0xf5c7d9eb03152738;
# A Python pseud service that hands out cara object references.

using Calc = import "../calculator.capnp";

interface PyService {
  makeAdder @0 (offset :Int32) -> (adder :Calc.Adder);
}
