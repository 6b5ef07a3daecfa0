@0xd1a3c8f2b4e61009;
struct lowerCase {}
struct Bad_Name {}
struct S {
  Upper @0 :Int32;
  a @1 :Int32;
  a @2 :Int32;
}
