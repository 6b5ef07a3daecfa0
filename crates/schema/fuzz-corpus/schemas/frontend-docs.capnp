@0xd1a3c8f2b4e6000a;
# Doc comments (file doc comes from the id line).

struct Documented {
  # Struct doc, line 1.
  # Line 2.

  a @0 :Int32;  # Field a.
  # More about a.

  b @1 :Text;
  # About b.

  grp :group {
    # Group doc.
    c @2 :Bool;  # Field c.
  }
}
# Not attached.

enum DocEnum {  # Enum doc.
  x @0;  # X.
  y @1;
}

interface DocIface {
  # Interface doc.
  m @0 () -> ();  # Method doc.
}

struct Empty {}
# Doc after an empty block.

const c :Int32 = 1;  # Const doc.
