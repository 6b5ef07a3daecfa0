@0xd1a3c8f2b4e61012;
annotation needsText (struct) :Text;
annotation notAnnotation (struct) :Void;
struct Plain {}
struct S $needsText $Plain {}
