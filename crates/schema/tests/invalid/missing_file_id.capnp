struct S { a @0 :Int32; }
