# Names and shapes that clash with what the generator emits (see docs/schema-to-rust.md,
# "Names"): each gets a deterministic rename or the code that makes it compile.
@0xd1a3c8f2b4e6f330;

enum Status {
  # `unknown` would be the catch-all `Unknown(u16)`: it becomes `Unknown_`.
  ok @0;
  unknown @1;
  fooBAR @2;
  fooBar @3;
}

struct Clashes {
  # `fooBAR` and `fooBar` are both `foo_bar` in snake_case: the second is `foo_bar_`.
  fooBAR @0 :Int32;
  fooBar @1 :Int32;
  which @2 :Text;
  union {
    httpURL @3 :Void;
    httpUrl @4 :Text;
  }
  status @5 :Status = unknown;
  struct Which {
    # In the module of a struct with a union, `Which` is the union enum: this is `Which_`.
    a @0 :Int8;
  }
}

struct Tree(T) {
  # `T` only appears in the struct itself: a marker field carries it.
  value @0 :Int32;
  children @1 :List(Tree(T));
  parent @2 :Tree(T);
}

struct Choice(T) {
  # The union enum of a generic struct is `choice::Which<T>`; in patterns and
  # expressions it is spelled `choice::Which::<T>::Some`.
  tag @0 :Text;
  union {
    none @1 :Void;
    some @2 :T;
  }
}

struct Node {
  # A default holding the struct itself must not rebuild its own default forever.
  next @0 :Node = (label = "second");
  label @1 :Text = "first";
  status @2 :Status = fooBar;
}

interface Busy {
  # Client methods keep their names; schema methods named like them get a `_`.
  new @0 () -> ();
  stub @1 () -> ();
  many @2 (a :Int8, b :Int8, c :Int8, d :Int8, e :Int8, f :Int8, g :Int8, h :Int8) -> ();
  list @3 (items :List(Text)) -> (foo :Text);
  # A comment laid out by hand:
  #   - first point,
  #     continued
  #       and indented
  connect @4 () -> (again :Busy);
  # Named like a client method and returning an interface: `connect_`, and its
  # pipelining variant `connect_pipelined`.
  connectPipelined @5 () -> ();
  # Takes the variant's name first: the variant becomes `connect_pipelined_`.
}

struct Outer {
  # A nested declaration named like its parent; `inner` is the nested one.
  struct Outer {
    x @0 :Int32;
  }
  inner @0 :Outer;
  top @1 : .Outer;
}

enum Option {
  some @0;
  none @1;
  self @2;
}

struct Box {
  # Named like std types the generated code also uses (always by full path).
  next @0 :Box;
  string @1 :Text;
  vec @2 :List(Box);
}

interface Dispatcher {
  # Methods and parameters named like the generated server's own items.
  info @0 () -> ();
  dispatch @1 (this :Int8, args :Int8, next :Int8, method :Int8, result :Int8) -> (value :Int8);
  clone @2 () -> ();
  default @3 () -> ();
}

struct Shapes {
  # A group and a nested struct whose Rust names coincide (`Position`).
  position :group {
    x @0 :Int32;
  }
  struct Position {
    y @0 :Int32;
  }
  other @1 :Position;
}

interface Getter {
  # The generated `GetParams`/`GetResults` and a declared struct of that name.
  get @0 (key :Text) -> (value :Text);
  struct GetParams {
    k @0 :Text;
  }
  put @1 (p :GetParams) -> ();
}
