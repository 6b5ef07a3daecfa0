@0xc3a1e2f4b5d60718;
# Invalid on purpose (tests/ui/fail/schema_syntax_error.rs): a field without `:` before its type.

struct Broken {
  ok @0 :Int32;
  missing @1 Text;
}
