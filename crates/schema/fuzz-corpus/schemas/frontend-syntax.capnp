@0xd1a3c8f2b4e60013;
# Syntax corners: trailing commas, number forms, adjacent strings, spacing.

using import "/shared/common.capnp".Point;

annotation note (field, enumerant, param) :Text;

struct Syntax {
  a@0:Int32 = -0x10;
  b @1 :Float32 = 1.;
  c @2 :Float64 = 1E+5;
  d @3 :Float32 = 0.5;
  e @4 :Text = "con" "cat" "enated";
  f @5 :List(Int32) = [1, 2,];
  g @6 :List(Int32) = [ ];
  h @7 :Int32 = 5 $note("after default");
  i @8 :Point = (x = 1, y = 2,);
  j @9 :Gen(Text,);
  k @10 :Int64 = 0;
  l @11 :UInt16 = 0xFFFF;
  m @12 :Data = "";
  n @13 :Text = "";
  o @14 :List(Text) = [""];
  p @15 :Data = "\xde\xad\377";
  q @16 :Text = "caf\xc3\xa9 ünïcode";
  r @17 :Float64 = -2.e-3;
  s @18 :Float64 = 2.E5;
}

struct Gen(T,) { v @0 :T; }

enum WithNotes {
  a @0 $note("first");
  b @1;
}

interface Defaults {
  m @0 (a :Int32 = 5 $note("p"), b :Text = "x",) -> (c :Text = "y");
}
