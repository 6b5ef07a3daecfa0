@0xd1a3c8f2b4e60003;
using Common = import "/shared/common.capnp";
using Common.Point;
using Ids = import "ids.capnp";
using Deep = Ids.Derived.Nested.Deeper;
using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("frontend::aliases");

struct UsesAliases {
  p @0 :Point;
  c @1 :Common.Color = green;
  d @2 :Deep;
  e @3 :Ids.Explicit.Inner;
  abs @4 : .UsesAliases;
}
