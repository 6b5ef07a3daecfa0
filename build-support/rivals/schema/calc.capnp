@0xd1b7e2c4a9f35e61;

# The capnp-rpc side of rivals: one method, add(1, 2).
interface Calc {
  add @0 (a :Int64, b :Int64) -> (value :Int64);
}
