@0xd1a3c8f2b4e6000b;
using Common = import "/shared/common.capnp";

const pi :Float64 = 3.14159;
const names :List(Text) = ["a", "b", "c"];
const nested :List(List(Int32)) = [[1], [2, 3]];
const point :Common.Point = (x = 1.5, y = -2);
const points :List(Common.Point) = [(x = 1), (y = 2)];
const originCopy :Common.Point = Common.origin;
const color :Common.Color = blue;
const embedded :Data = embed "include/shared/blob.bin";
const bigNeg :Int64 = -9223372036854775808;
const structWithList :Holder = (items = [1, 2, 3], name = "h");

struct Holder {
  items @0 :List(UInt32);
  name @1 :Text;
}
