@0xd1a3c8f2b4e6000e;
# Relative imports, including parent directories.
using Ids = import "../ids.capnp";
using Common = import "/shared/common.capnp";

struct Rel {
  e @0 :Ids.Explicit;
  p @1 :Common.Point;
  c @2 :Common.Color = red;
}
