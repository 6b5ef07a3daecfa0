# Annotation target lists as the official parser checks them.
@0xd1a3c8f2b4e6f001;
annotation a(struct, Struct) :Text;
annotation b(foo) :Text;
annotation c(*, struct) :Text;
annotation d(struct, *) :Text;
annotation e(parameter) :Text;
