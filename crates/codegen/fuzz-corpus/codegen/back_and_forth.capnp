@0xe4b6c8dae2f40516;
# cara's BackAndForth: the client passes a callback; the server calls it back with
# a callback of its own, which the client then calls.

interface Ping {
  ping @0 (from :Text, back :Ping) -> (reply :Text);
  # Answers a ping; may ping `back` first (a null `back` ends the exchange).
}

interface Hub {
  start @0 (callback :Ping) -> (reply :Text);
  # Calls `callback` with a Ping of the server's own.
}
