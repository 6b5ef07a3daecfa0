@0xd1a3c8f2b4e6100a;
const a :Int32 = .b;
const b :Int32 = .a;
