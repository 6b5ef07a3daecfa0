@0xd1a3c8f2b4e61017;
interface I {
  m @0 (a :Int32, a :Int32) -> ();
}
