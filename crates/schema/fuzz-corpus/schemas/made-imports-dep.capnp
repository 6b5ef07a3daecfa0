@0xd1a3c8f2b4e6ff03;
using Dep = import "dep.capnp";
struct Uses { t @0 :Dep.Thing(Text); k @1 :Dep.Kind = b; }
interface Sub extends(Dep.Service) {}
