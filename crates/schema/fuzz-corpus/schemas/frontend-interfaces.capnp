@0xd1a3c8f2b4e60007;
# Interfaces: extends, params, generics, stream.

struct Req { id @0 :UInt32; }
struct Resp { ok @0 :Bool; }

interface Base {
  ping @0 () -> ();
}

interface Other {
  name @0 () -> (name :Text);
}

interface Service extends(Base, Other) {
  call @0 (a :Int32, b :Text = "x", c :List(Req)) -> (r :Resp, n :UInt64);
  typed @1 Req -> Resp;
  write @2 (bytes :Data) -> stream;
  generic @3 [T] (value :T) -> (value :T);
  noResult @4 (x :Bool);
}

interface Container(T) {
  get @0 () -> (value :T);
  put @1 (value :T) -> ();
  sub @2 () -> (c :Container(T));
}

interface TextContainer extends(Container(Text)) {}
