# Literal forms the official parser reads: integer bases and limits, floats (`inf`, `nan`,
# integers as floats), string escapes, data with spaces, nested and typed lists, struct,
# union and group values, and tuple values of annotations.
@0xd1a3c8f2b4e6f370;

struct Pair {
  a @0 :Int8;
  b @1 :Text;
}

enum Suit {
  clubs @0;
  hearts @1;
}

annotation meta(file, struct, field) :Pair;

$meta(a = 1, b = "file");

struct Literals $meta(a = -1, b = "struct") {
  octal @0 :UInt16 = 0777;
  zero @1 :Int32 = -0;
  int64Min @2 :Int64 = -9223372036854775808;
  uint64Max @3 :UInt64 = 18446744073709551615;
  hexMax @4 :Int64 = 0x7fffffffffffffff;
  floatFromInt @5 :Float64 = 5;
  negFloatFromInt @6 :Float32 = -5;
  floats @7 :List(Float64) = [inf, -inf, nan, 1e-300, 0.0, -0.0];
  escapes @8 :Text = "\a\b\f\n\r\t\v\\\'\"\x41\101\0end";
  unicode @9 :Text = "♫ é ✓";
  bytes @10 :Data = 0x"de ad be ef";
  nested @11 :List(List(Int8)) = [[1], [2, 3], []];
  pairs @12 :List(Pair) = [(a = 1, b = "x"), (), (b = "y")];
  suits @13 :List(Suit) = [hearts, clubs];
  bools @14 :List(Bool) = [true, false, true, true, false, false, true, false, true];
  voids @15 :List(Void) = [void, void, void];
  texts @16 :List(Text) = ["a", "", "c" "d"];
  datas @17 :List(Data) = [0x"01", "two"];
  choice :union {
    none @18 :Void;
    some @19 :Pair = (a = 2);
  }
  inner :group {
    x @20 :Int16 = -32768;
    y @21 :UInt8 = 255;
  }
  pairWithMeta @22 :Pair = (a = 7) $meta(a = 3, b = "field");
}

struct Holder {
  literals @0 :Literals = (octal = 8, choice = (some = (a = 5, b = "five")), inner = (x = 1));
  other @1 :Literals = (choice = (none = void));
}

const listOfLists :List(List(Text)) = [["a", "b"], [], ["c"]];
const pairConst :Pair = (a = 4, b = "const");
const pairs :List(Pair) = [.pairConst, (a = 5)];

struct Empty {}

const emptyStruct :Empty = ();
const allDefaults :Pair = ();
const empties :List(Empty) = [(), ()];
const holderOfEmpty :Holder = (literals = ());
