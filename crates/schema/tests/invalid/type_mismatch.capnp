@0xd1a3c8f2b4e61004;
struct S {
  a @0 :Int32 = "text";
  b @1 :Text = 5;
  c @2 :List(Int32) = [1, "x"];
  d @3 :UInt8 = 256;
  e @4 :Int8 = -129;
  f @5 :Bool = 1;
}
