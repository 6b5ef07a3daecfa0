# What Cap'n Proto 1.0 does not read as an implied first field either (its compileValue
# only wraps a literal whose own type is the first field's): the 0.9 errors stay.
@0xd1a3c8f2b4e6f392;
struct Bytes { d @0 :Data; }
struct Outer { inner @0 :Inner; }
struct Inner { t @0 :Text; }
struct Listy { l @0 :List(Int32); }
struct G { g :group { s @0 :Inner; } t @1 :Text; }
struct S {
  a @0 :Bytes = "text is not data";
  b @1 :Outer = "no nesting";
  c @2 :Listy = [1, 2];
  d @3 :G = (g = "x");
  e @4 :Inner = 5;
}
