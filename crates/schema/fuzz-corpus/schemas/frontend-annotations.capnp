@0xd1a3c8f2b4e60009;
# Annotation declarations and applications on every target.

annotation everywhere @0xf1a2b3c4d5e6f701 (*) :Text;
annotation flag (struct, field, enum, enumerant, interface, method, param, union, group, const, annotation, file) :Void;
annotation num (field) :Int32;
annotation listy (struct) :List(UInt16);
annotation structy (struct) :Info;
annotation color (enum) :Color;

struct Info { name @0 :Text; level @1 :UInt8; }
enum Color { red @0; green @1; }

$everywhere("file");
$flag;

struct Annotated $everywhere("struct") $flag $listy([1, 2, 3]) $structy((name = "n", level = 2)) {
  a @0 :Int32 $num(5) $flag;
  g :group $flag { x @1 :Bool; }
  u :union $flag {
    p @2 :Void $everywhere("p");
    q @3 :Void;
  }
}

enum Annotated2 $color(green) $flag {
  a @0 $flag;
  b @1 $everywhere("b");
}

interface AnnotatedIface $flag {
  m @0 (x :Int32 $flag) -> (y :Int32) $everywhere("m");
}

const annotatedConst :Int32 = 1 $flag;
annotation annotatedAnnotation (field) :Void $flag;
