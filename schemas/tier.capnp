@0xc3a1f0e2b4d69a57;
# The scale-out example (docs/scaling.md): replicas of one service behind a
# broker. Every answer says which replica gave it, so that a client (and the
# multi-host test) can see where its calls went.

interface Tier {
  # Which replica answers, and the user id it knows the caller by.
  whoami @0 () -> (replica :Text, user :Text);
  # A counter object that lives in the replica that made it.
  counter @1 (start :Int64) -> (counter :Counter);
  # Calls the callback the client passed (a capability the client exports).
  apply @2 (callback :Callback, x :Int64) -> (result :Int64);
  # Calls the caller back by its user id (the Callback it registered).
  callMeBack @3 (x :Int64) -> (result :Int64);
  # Takes `millis` to answer: load with latency, for failover under load.
  work @4 (tag :UInt64, millis :UInt32) -> (tag :UInt64, replica :Text);
}

interface Counter {
  next @0 () -> (value :Int64, replica :Text);
}

interface Callback {
  double @0 (x :Int64) -> (result :Int64);
}
