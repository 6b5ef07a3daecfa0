# Generic interfaces inherited through generic ones: `ThingSubHolder` gets `get` and `put`
# from `Holder(U)` with `U` bound to `Thing` two levels up (capnp-ts's generic.capnp).
@0xd1a3c8f2b4e6f3c0;

struct Thing {
  weight @0 :Float64;
  name @1 :Text;
}

struct Box(T) {
  item @0 :T;
  label @1 :Text;
}

interface Holder(T) {
  get @0 () -> (value :T);
  put @1 (value :T) -> ();
}

interface SubHolder(U) extends(Holder(U)) {
  relabel @0 (label :Text) -> ();
}

interface ThingSubHolder extends(SubHolder(Thing)) {}

interface BoxHolder(U) extends(Holder(Box(U))) {}

interface ThingBoxHolder extends(BoxHolder(Thing)) {}
