@0xd1a3c8f2b4e61006;
annotation onField (field) :Void;
struct S $onField {
  a @0 :Int32 $onField;
}
