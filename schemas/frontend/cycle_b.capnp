@0xd1a3c8f2b4e60011;
using A = import "cycle_a.capnp";
struct B { a @0 :A.A; }
