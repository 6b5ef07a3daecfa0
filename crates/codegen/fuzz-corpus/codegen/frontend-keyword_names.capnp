# Keywords of the schema language used as names wherever the official compiler allows it:
# annotations named `import` and `embed` applied with a value (go-capnp's `go.capnp` does
# `$import("...")`), members, enumerants, methods and parameters named like keywords.
@0xd1a3c8f2b4e6f300;

annotation import(*) :Text;
annotation embed(*) :Text;
annotation struct(*) :Void;
annotation using(file, struct) :Int32;

$import("example.com/keyword/names");
$embed("not an embed");
$using(3);

struct Keywords $import("on a struct") $struct {
  import @0 :Text $embed("on a field");
  embed @1 :Int32;
  struct @2 :Bool;
  union @3 :UInt8;
  group @4 :Text;
  enum @5 :Float32;
  interface @6 :Data;
  const @7 :Int64;
  annotation @8 :Void;
  using @9 :Int16;
  extends @10 :UInt64;
  inf @11 :Float64 = inf;
  nan @12 :Float32 = nan;
  true @13 :Bool = true;
  false @14 :Bool = false;
  void @15 :Void = void;
  stream @16 :Text;
  union {
    file @17 :Void;
    field @18 :Void;
  }
  param :group {
    method @19 :Int8;
    enumerant @20 :UInt16;
  }
}

enum Words {
  struct @0;
  import @1 $import("on an enumerant");
  embed @2;
  union @3;
  using @4;
  const @5;
}

interface KeywordMethods {
  import @0 (struct :Text, embed :Int32 $import("on a param")) -> (union :Bool);
  embed @1 () -> (import :Text);
  stream @2 (interface :KeywordMethods) -> ();
  using @3 [Struct] (const :Struct) -> (extends :Struct);
}

const union :Text = "a constant named import";
const group :Keywords = (import = "x", embed = 1, struct = true, file = void);
