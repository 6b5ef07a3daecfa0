@0xd1a3c8f2b4e60010;
# Import cycles are allowed (as in the official compiler) when declarations do not depend
# on themselves.
using B = import "cycle_b.capnp";
struct A { b @0 :B.B; }
