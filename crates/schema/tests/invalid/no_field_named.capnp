@0xd1a3c8f2b4e61013;
struct P { x @0 :Int32; }
const p :P = (y = 1);
