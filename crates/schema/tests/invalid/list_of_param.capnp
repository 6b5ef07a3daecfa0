@0xd1a3c8f2b4e6101b;
struct G(T) {
  l @0 :List(T);
}
interface I {
  m @0 [U] (items :List(U)) -> ();
}
