// A server method whose future is not Send: it holds an `Rc` across an await.
// Servers run on a multi-threaded runtime, so the generated trait requires Send.
cara::schema!("ui/schemas/greeter.capnp");

use std::rc::Rc;

use greeter_capnp::Greeter;

struct Hello;

async fn pause() {}

impl Greeter for Hello {
    async fn greet(&self, name: String, times: u8) -> Result<String, cara::Fault> {
        let shared = Rc::new(name);
        pause().await;
        Ok(format!("hello {shared}! ").repeat(usize::from(times)))
    }
}

fn main() {}
