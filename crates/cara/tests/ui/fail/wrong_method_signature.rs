// Implementing the generated server trait with a wrong parameter type
// (`times` is a UInt8 in the schema).
cara::schema!("ui/schemas/greeter.capnp");

use greeter_capnp::Greeter;

struct Hello;

impl Greeter for Hello {
    async fn greet(&self, name: String, times: u32) -> Result<String, cara::Fault> {
        Ok(format!("hello {name}! ").repeat(times as usize))
    }
}

fn main() {}
