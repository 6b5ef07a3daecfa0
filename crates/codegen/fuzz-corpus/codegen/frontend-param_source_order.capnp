# The official compiler gives every generated param/result struct's sourceInfo id 0 and
# keeps the first one registered. Translating `First` translates what its method's types
# mention first (`Holder`, then `Later`), so `Later.b$Params` (three members) is the one kept,
# not `First.a$Params`.
@0xd1a3c8f2b4e6f320;

interface First {
  a @0 (x :Holder) -> (p :Int8, q :Int8);
}

struct Holder {
  later @0 :Later;
  list @1 :List(Other);
}

interface Later {
  b @0 (x :Int8, y :Int8, z :Int8) -> ();
}

interface Other extends(Later) {
  c @0 () -> (r :Int8);
}
