@0x9f6abc1ee2c5ef4f;
# A one-method interface for the compile-fail tests of server implementations
# (tests/ui/fail/wrong_method_signature.rs, tests/ui/fail/non_send_future.rs).

interface Greeter {
  greet @0 (name :Text, times :UInt8) -> (greeting :Text);
}
