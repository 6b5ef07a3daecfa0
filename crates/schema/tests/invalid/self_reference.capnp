@0xd1a3c8f2b4e61016;
struct S { a @0 :S = (a = (a = ())); }
const c :S = (a = .c);
