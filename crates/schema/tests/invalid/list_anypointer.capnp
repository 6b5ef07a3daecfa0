@0xd1a3c8f2b4e6100c;
struct S {
  a @0 :List(AnyPointer);
}
