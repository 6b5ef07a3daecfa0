//! The in-process ZAP handler (ZeroMQ RFC 27) that authenticates PLAIN logins.
//!
//! libzmq asks `inproc://zeromq.zap.01` of the socket's context. One handler
//! thread serves the whole process; each server socket gets its own ZAP domain,
//! and the handler dispatches on it to that server's verifier.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::Error;
use crate::socket::context;

/// Checks a PLAIN username and password; `true` admits the peer with user id = username.
pub type Verifier = Arc<dyn Fn(&str, &[u8]) -> bool + Send + Sync>;

type Domains = Mutex<HashMap<String, Verifier>>;

fn domains() -> &'static Domains {
    static DOMAINS: OnceLock<Domains> = OnceLock::new();
    DOMAINS.get_or_init(Default::default)
}

/// Registers a verifier under a fresh ZAP domain (starting the handler if needed)
/// and returns the domain to set on the server socket.
pub(crate) fn register(verifier: Verifier) -> Result<ZapDomain, Error> {
    start()?;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let domain = format!("pseud-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    domains()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(domain.clone(), verifier);
    Ok(ZapDomain(domain))
}

/// A registered ZAP domain; dropping it removes its verifier.
pub(crate) struct ZapDomain(pub String);

impl Drop for ZapDomain {
    fn drop(&mut self) {
        domains()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.0);
    }
}

fn start() -> Result<(), Error> {
    static STARTED: OnceLock<Result<(), String>> = OnceLock::new();
    STARTED
        .get_or_init(|| {
            let socket = context().socket(zmq::REP).map_err(|e| e.to_string())?;
            socket
                .bind("inproc://zeromq.zap.01")
                .map_err(|e| format!("bind inproc://zeromq.zap.01: {e}"))?;
            std::thread::Builder::new()
                .name("pseud-zap".into())
                .spawn(move || serve(socket))
                .map_err(|e| e.to_string())?;
            Ok(())
        })
        .clone()
        .map_err(|e| Error::Setup(format!("cannot start the ZAP handler: {e}")))
}

fn serve(socket: zmq::Socket) {
    loop {
        let request = match socket.recv_multipart(0) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "ZAP handler receive failed");
                continue;
            }
        };
        let reply = answer(&request);
        if let Err(e) = socket.send_multipart(reply, 0) {
            tracing::error!(error = %e, "ZAP handler send failed");
        }
    }
}

/// The reply frames for one ZAP request.
fn answer(request: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let frame = |i: usize| request.get(i).map(Vec::as_slice).unwrap_or(b"");
    let reply = |code: &str, text: &str, user: &[u8]| {
        vec![
            b"1.0".to_vec(),
            frame(1).to_vec(),
            code.as_bytes().to_vec(),
            text.as_bytes().to_vec(),
            user.to_vec(),
            Vec::new(),
        ]
    };
    if request.len() < 6 || frame(0) != b"1.0" {
        tracing::warn!(frames = request.len(), "malformed ZAP request refused");
        return reply("500", "malformed ZAP request", b"");
    }
    let domain = String::from_utf8_lossy(frame(2)).into_owned();
    let address = String::from_utf8_lossy(frame(3)).into_owned();
    let mechanism = frame(5);
    let verifier = domains()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&domain)
        .cloned();
    match (mechanism, verifier) {
        (b"PLAIN", Some(verify)) => {
            let username = String::from_utf8_lossy(frame(6)).into_owned();
            if verify(&username, frame(7)) {
                tracing::info!(user = %username, %address, "authentication accepted");
                reply("200", "OK", username.as_bytes())
            } else {
                tracing::warn!(user = %username, %address, "authentication refused: bad credentials");
                reply("400", "Invalid username or password", b"")
            }
        }
        (mech, _) => {
            let mech = String::from_utf8_lossy(mech);
            tracing::warn!(%domain, mechanism = %mech, %address, "authentication refused: no verifier for this domain and mechanism");
            reply("400", "Unsupported mechanism", b"")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(domain: &str, user: &str, pass: &str) -> Vec<Vec<u8>> {
        ["1.0", "7", domain, "127.0.0.1", "", "PLAIN", user, pass]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect()
    }

    #[test]
    fn plain_requests_are_checked_by_their_domain_verifier() {
        let d = register(Arc::new(|u, p| u == "alice" && p == b"secret")).unwrap();
        let ok = answer(&req(&d.0, "alice", "secret"));
        assert_eq!(ok[2], b"200");
        assert_eq!(ok[4], b"alice");
        assert_eq!(ok[1], b"7");
        assert_eq!(answer(&req(&d.0, "alice", "nope"))[2], b"400");
        assert_eq!(answer(&req("other", "alice", "secret"))[2], b"400");
        assert_eq!(answer(&[b"1.0".to_vec()])[2], b"500");
        let name = d.0.clone();
        drop(d);
        assert_eq!(answer(&req(&name, "alice", "secret"))[2], b"400");
    }
}
