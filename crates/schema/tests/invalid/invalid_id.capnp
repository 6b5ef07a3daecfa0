@0x1234;
struct S {}
