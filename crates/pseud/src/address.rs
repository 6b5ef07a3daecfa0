//! Endpoint strings: parsed with messages that show the expected form when they
//! are wrong; host names are resolved for binding (libzmq's syntax binds only to
//! addresses), and at each attempt for connecting.

use std::net::{IpAddr, ToSocketAddrs};

use crate::error::Error;
use crate::zmtp::Endpoint;

/// What an endpoint is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Use {
    /// A server binds it.
    Bind,
    /// A client connects to it.
    Connect,
}

/// Transports libzmq knows besides tcp, ipc and inproc (refused with a clear reason).
const OTHER_TRANSPORTS: [&str; 6] = ["pgm", "epgm", "tipc", "vmci", "ws", "wss"];

fn bad(endpoint: &str, reason: impl Into<String>) -> Error {
    Error::BadEndpoint {
        endpoint: endpoint.to_string(),
        reason: reason.into(),
    }
}

/// Parses `endpoint`; for a bind to a host name (`tcp://localhost:5555`), the
/// name is resolved to an address here.
pub(crate) fn check(endpoint: &str, usage: Use) -> Result<Endpoint, Error> {
    let Some((transport, rest)) = endpoint.split_once("://") else {
        return Err(bad(endpoint, "it has no transport"));
    };
    match transport {
        "tcp" => tcp(endpoint, rest, usage),
        "ipc" | "inproc" if rest.is_empty() => Err(bad(endpoint, "the name after :// is empty")),
        "ipc" => Ok(Endpoint::Ipc(rest.to_string())),
        "inproc" => Ok(Endpoint::Inproc(rest.to_string())),
        t if OTHER_TRANSPORTS.contains(&t) => Err(bad(
            endpoint,
            format!("the {t} transport is not supported (tcp, ipc and inproc are)"),
        )),
        t => Err(bad(endpoint, format!("{t:?} is not a transport"))),
    }
}

fn tcp(endpoint: &str, rest: &str, usage: Use) -> Result<Endpoint, Error> {
    // `[::1]:5555` or `host:5555`; the port is after the last colon.
    let Some((host, port)) = rest.rsplit_once(':') else {
        return Err(bad(endpoint, "it has no port"));
    };
    let port_ok = match usage {
        Use::Bind => port == "*" || port.parse::<u16>().is_ok(),
        Use::Connect => port.parse::<u16>().is_ok_and(|p| p != 0),
    };
    if !port_ok {
        let allowed = match usage {
            Use::Bind => "a number from 0 to 65535, or * (0 and * pick a free port)",
            Use::Connect => "a number from 1 to 65535",
        };
        return Err(bad(endpoint, format!("the port {port:?} is not {allowed}")));
    }
    if host.is_empty() {
        return Err(bad(endpoint, "the host is empty"));
    }
    let port_number = if port == "*" {
        0
    } else {
        port.parse::<u16>().unwrap_or(0)
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let parsed = |host: &str| Endpoint::Tcp {
        host: host.to_string(),
        port: port_number,
    };
    if usage == Use::Connect {
        // Host names are resolved at each connect attempt, and retried while
        // they do not resolve.
        return Ok(parsed(bare));
    }
    if host == "*" || bare.parse::<IpAddr>().is_ok() {
        return Ok(parsed(bare));
    }
    if is_interface(host) {
        return Err(bad(
            endpoint,
            format!(
                "binding to a network interface by name ({host}) is not supported: use its address"
            ),
        ));
    }
    let addrs: Vec<_> = (bare, port_number)
        .to_socket_addrs()
        .map_err(|e| {
            bad(
                endpoint,
                format!("{host:?} is neither an address, a network interface nor a host name that resolves ({e})"),
            )
        })?
        .collect();
    // Prefer IPv4, as libzmq's sockets do by default (what Python peers expect).
    let Some(addr) = addrs.iter().find(|a| a.is_ipv4()).or(addrs.first()) else {
        return Err(bad(endpoint, format!("{host:?} resolves to no address")));
    };
    let ip = addr.ip().to_string();
    tracing::debug!(%endpoint, %ip, "bind: host name resolved");
    Ok(parsed(&ip))
}

/// Whether `name` is a network interface of this machine (libzmq binds to those;
/// we say to use its address).
fn is_interface(name: &str) -> bool {
    !name.contains(['/', '.']) && std::path::Path::new("/sys/class/net").join(name).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(endpoint: &str, usage: Use) -> String {
        match check(endpoint, usage) {
            Err(Error::BadEndpoint { reason, .. }) => reason,
            other => panic!("{endpoint}: {other:?}"),
        }
    }

    #[test]
    fn good_endpoints_pass_unchanged() {
        for e in [
            "tcp://127.0.0.1:0",
            "tcp://*:5555",
            "tcp://[::1]:5555",
            "ipc:///tmp/x",
            "inproc://a",
        ] {
            assert_eq!(check(e, Use::Bind).unwrap().to_string(), e);
        }
        for e in [
            "tcp://127.0.0.1:5555",
            "tcp://example.invalid:5555",
            "ipc:///tmp/x",
        ] {
            assert_eq!(check(e, Use::Connect).unwrap().to_string(), e);
        }
    }

    #[test]
    fn bind_resolves_host_names() {
        let e = check("tcp://localhost:5601", Use::Bind)
            .unwrap()
            .to_string();
        assert!(
            e == "tcp://127.0.0.1:5601" || e == "tcp://[::1]:5601",
            "{e}"
        );
        assert!(reason("tcp://no-such-host.invalid:1", Use::Bind).contains("neither an address"));
    }

    #[test]
    fn mistakes_say_what_is_wrong() {
        assert_eq!(
            reason("localhost:5555", Use::Connect),
            "it has no transport"
        );
        assert_eq!(reason("tcp://127.0.0.1", Use::Connect), "it has no port");
        assert!(reason("tcp://127.0.0.1:0", Use::Connect).contains("from 1 to 65535"));
        assert!(reason("tcp://127.0.0.1:99999", Use::Bind).contains("or *"));
        assert_eq!(reason("tcp://:5555", Use::Bind), "the host is empty");
        assert!(reason("http://x:1", Use::Bind).contains("not a transport"));
        assert!(reason("ipc://", Use::Bind).contains("empty"));
        let text = check("localhost:5555", Use::Connect)
            .unwrap_err()
            .to_string();
        assert!(text.contains("tcp://host:port"), "{text}");
    }
}
