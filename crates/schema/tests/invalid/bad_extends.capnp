@0xd1a3c8f2b4e61010;
struct NotIface {}
interface I extends(NotIface) {}
