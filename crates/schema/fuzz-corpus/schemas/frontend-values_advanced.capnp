@0xd1a3c8f2b4e6000f;
# More literal forms: struct defaults with unions/groups, nested lists of structs.

struct Node {
  name @0 :Text = "default";
  children @1 :List(Node);
  union {
    leaf @2 :Void;
    weight @3 :Float32;
    pair :group { x @4 :Int16 = -1; y @5 :Int16 = 1; }
  }
  tags @6 :List(List(Text));
  flags @7 :List(Bool);
  blob @8 :List(Data);
}

struct Holder {
  tree @0 :Node = (name = "root", children = [(name = "a", weight = 2.5), (pair = (x = 3)), (leaf = void)], tags = [["x"], []], flags = [true, false], blob = [0x"00ff", "ab"]);
  empty @1 :Node = ();
  list @2 :List(Node) = [(), (name = "")];
  nested @3 :List(List(Node)) = [[(weight = 1)], []];
  fromConst @4 :List(Text) = .texts;
  enums @5 :List(Kind) = [b, a, b];
  u64s @6 :List(UInt64) = [0, 18446744073709551615];
  i8s @7 :List(Int8) = [-128, 127];
  f32s @8 :List(Float32) = [inf, -inf, 0.5];
  voids @9 :List(Void) = [void, void];
}

enum Kind { a @0; b @1; }

const texts :List(Text) = ["t1", "t2"];
const tree :Node = (name = "c", weight = 1);
const treeRef :Node = .tree;
const nodeList :List(Node) = [.tree, (name = "z")];
