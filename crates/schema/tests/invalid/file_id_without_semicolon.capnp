# A missing semicolon after the file id.
@0xd7a2e3c4b5f60718
struct A { x @0 :Int32; }
