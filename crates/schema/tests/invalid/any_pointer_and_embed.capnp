@0xd1a3c8f2b4e6f350;
const words :Text = "w";
struct S { any @0 :AnyPointer; }
const s :S = (any = .words);
const bad :Data = embed "../../../../schemas/frontend/data/outer.bin";
const notMessage :S = embed "any_pointer_and_embed.capnp";
const n :Int32 = embed "x";
