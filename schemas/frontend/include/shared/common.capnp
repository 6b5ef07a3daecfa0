@0xd1a3c8f2b4e60001;
# Shared definitions imported through `-I schemas/frontend/include`.

struct Point {
  x @0 :Float64;
  y @1 :Float64;
}

enum Color { red @0; green @1; blue @2; }

const origin :Point = (x = 0.0, y = 0.0);
