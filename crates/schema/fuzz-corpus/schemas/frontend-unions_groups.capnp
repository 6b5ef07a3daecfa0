@0xd1a3c8f2b4e60006;
# Unions (named and unnamed) and groups, layout-heavy.

struct Shape {
  area @0 :Float64;
  union {
    circle @1 :Float64;
    square @2 :Float64;
    rect :group {
      w @3 :Float32;
      h @4 :Float32;
    }
    none @5 :Void;
  }
  color :union {
    rgb @6 :UInt32;
    named @7 :Text;
    hsv :group { h @8 :UInt16; s @9 :UInt8; v @10 :UInt8; }
  }
  meta :group {
    tag @11 :Text;
    inner :union {
      a @12 :Bool;
      b @13 :Int64;
      c :union { x @14 :Void; y @15 :Int8; }
    }
  }
}

struct Mixed {
  a @0 :Bool;
  b @1 :UInt8;
  c @2 :Bool;
  d @3 :UInt16;
  e @4 :UInt32;
  f @5 :Bool;
  g @6 :UInt64;
  h @7 :Int8;
  i @8 :Text;
  j @9 :Float32;
  k @10 :Bool;
  u :union {
    m @11 :UInt8;
    n @12 :UInt64;
    o @13 :Bool;
  }
  p @14 :Int16;
  retro :union {
    q @15 :UInt32;
    r @16 :Data;
  }
}
