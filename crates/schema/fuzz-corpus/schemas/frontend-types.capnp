@0xd1a3c8f2b4e60004;
# Every type.

struct AllTypes {
  v @0 :Void;
  b @1 :Bool;
  i8 @2 :Int8;
  i16 @3 :Int16;
  i32 @4 :Int32;
  i64 @5 :Int64;
  u8 @6 :UInt8;
  u16 @7 :UInt16;
  u32 @8 :UInt32;
  u64 @9 :UInt64;
  f32 @10 :Float32;
  f64 @11 :Float64;
  t @12 :Text;
  d @13 :Data;
  s @14 :AllTypes;
  e @15 :E;
  i @16 :I;
  ap @17 :AnyPointer;
  as @18 :AnyStruct;
  al @19 :AnyList;
  cap @20 :Capability;
  lb @21 :List(Bool);
  li @22 :List(Int32);
  lt @23 :List(Text);
  ls @24 :List(AllTypes);
  le @25 :List(E);
  ll @26 :List(List(Int16));
  lll @27 :List(List(List(Text)));
  ld @28 :List(Data);
  lif @29 :List(I);
  lv @30 :List(Void);
  lal @31 :List(AnyList);
  lcap @32 :List(Capability);
  enum E { a @0; b @1; }
  interface I {}
}
