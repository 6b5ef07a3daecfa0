@0xd1a3c8f2b4e61015;
struct S { a @65536 :Int32; }
