@0xd1a3c8f2b4e60005;
# Defaults in every literal form.

struct Inner {
  a @0 :Int32 = 7;
  t @1 :Text;
  g :group { x @2 :UInt16 = 3; }
}

enum Mode { off @0; on @1; auto @2; }

struct Defaults {
  b @0 :Bool = true;
  i8 @1 :Int8 = -128;
  i16 @2 :Int16 = 0x7fff;
  i32 @3 :Int32 = -123456;
  i64 @4 :Int64 = -9223372036854775808;
  u8 @5 :UInt8 = 255;
  u16 @6 :UInt16 = 0177;
  u32 @7 :UInt32 = 4000000000;
  u64 @8 :UInt64 = 18446744073709551615;
  f32 @9 :Float32 = 1.5;
  f64 @10 :Float64 = -2.5e-3;
  fi @11 :Float64 = inf;
  fni @12 :Float64 = -inf;
  fnan @13 :Float32 = nan;
  fint @14 :Float32 = 3;
  t @15 :Text = "hello \"world\"\n\t\x41\101";
  d @16 :Data = 0x"de ad be ef";
  ds @17 :Data = "bytes";
  e @18 :Mode = auto;
  li @19 :List(Int32) = [1, -2, 3];
  lb @20 :List(Bool) = [true, false, true, true, false, false, false, false, true];
  lt @21 :List(Text) = ["a", "bc"];
  ls @22 :List(Inner) = [(a = 1), (t = "x", g = (x = 9))];
  s @23 :Inner = (a = 5, t = "inner", g = (x = 4));
  ll @24 :List(List(UInt8)) = [[1, 2], [], [3]];
  cr @25 :Int32 = .answer;
  cs @26 :Inner = .innerConst;
  le @27 :List(Mode) = [on, off, auto];
  lf @28 :List(Float64) = [1.0, 2.5];
  v @29 :Void = void;
  nul @30 :Inner;
}

const answer :Int32 = 42;
const innerConst :Inner = (a = 11);
const listConst :List(Text) = ["x", "y"];
const dataConst :Data = 0x"0102";
const textConst :Text = "const text";
const ref :Int32 = .answer;
const enumConst :Mode = on;
const floatConst :Float32 = -0.25;
