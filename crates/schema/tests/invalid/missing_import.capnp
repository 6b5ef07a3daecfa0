@0xd1a3c8f2b4e61007;
using M = import "does-not-exist.capnp";
struct S { a @0 :M.T; }
