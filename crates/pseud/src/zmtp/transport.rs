//! The byte streams ZMTP runs over: TCP, Unix domain sockets (`ipc://`), and
//! socket pairs within the process (`inproc://`). Every one is a tokio socket with
//! non-blocking `try_read`/`try_write`, so a connection can be written from the
//! socket task directly, without a hop to another task.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};

use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::mpsc;

/// Where to bind or connect, parsed (see `crate::address`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `tcp://host:port`; `host` is an address when binding.
    Tcp { host: String, port: u16 },
    /// `ipc://path`.
    Ipc(String),
    /// `inproc://name`.
    Inproc(String),
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Tcp { host, port } if host.contains(':') && !host.starts_with('[') => {
                write!(f, "tcp://[{host}]:{port}")
            }
            Endpoint::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            Endpoint::Ipc(path) => write!(f, "ipc://{path}"),
            Endpoint::Inproc(name) => write!(f, "inproc://{name}"),
        }
    }
}

/// A connected byte stream.
pub(crate) enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    pub(crate) async fn readable(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.readable().await,
            Stream::Unix(s) => s.readable().await,
        }
    }

    pub(crate) async fn writable(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.writable().await,
            Stream::Unix(s) => s.writable().await,
        }
    }

    pub(crate) fn try_read_buf(&self, buf: &mut bytes::BytesMut) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.try_read_buf(buf),
            Stream::Unix(s) => s.try_read_buf(buf),
        }
    }

    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.try_write(buf),
            Stream::Unix(s) => s.try_write(buf),
        }
    }

    /// Reads at least once into `buf`; `Ok(0)` at end of stream.
    pub(crate) async fn read_buf(&self, buf: &mut bytes::BytesMut) -> io::Result<usize> {
        loop {
            if buf.capacity() - buf.len() < 4096 {
                buf.reserve(64 * 1024);
            }
            match self.try_read_buf(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.readable().await?,
                other => return other,
            }
        }
    }

    /// Writes all of `data`.
    pub(crate) async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            match self.try_write(data) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.writable().await?,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The peer's address, as the authentication hook sees it.
    pub(crate) fn peer_address(&self) -> String {
        match self {
            Stream::Tcp(s) => s
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default(),
            Stream::Unix(_) => String::new(),
        }
    }
}

/// A bound endpoint, accepting connections.
pub(crate) enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener, String),
    Inproc(mpsc::UnboundedReceiver<UnixStream>, String),
}

type InprocTable = Mutex<HashMap<String, mpsc::UnboundedSender<UnixStream>>>;

fn inproc_table() -> &'static InprocTable {
    static TABLE: OnceLock<InprocTable> = OnceLock::new();
    TABLE.get_or_init(Default::default)
}

impl Listener {
    /// Binds (inside a runtime); returns the listener and the endpoint as bound
    /// (the port picked for 0).
    pub(crate) fn bind(endpoint: &Endpoint) -> io::Result<(Listener, Endpoint)> {
        match endpoint {
            Endpoint::Tcp { host, port } => {
                let ip = if host == "*" {
                    "0.0.0.0"
                } else {
                    host.trim_start_matches('[').trim_end_matches(']')
                };
                let ip: std::net::IpAddr = ip
                    .parse()
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "not an address"))?;
                let std_listener = std::net::TcpListener::bind(SocketAddr::new(ip, *port))?;
                std_listener.set_nonblocking(true)?;
                let listener = TcpListener::from_std(std_listener)?;
                let local = listener.local_addr()?;
                let bound = Endpoint::Tcp {
                    host: local.ip().to_string(),
                    port: local.port(),
                };
                Ok((Listener::Tcp(listener), bound))
            }
            Endpoint::Ipc(path) => {
                // libzmq replaces a stale socket file, and so do we.
                if std::fs::symlink_metadata(path).is_ok_and(|m| {
                    use std::os::unix::fs::FileTypeExt;
                    m.file_type().is_socket()
                }) && std::os::unix::net::UnixStream::connect(path).is_err()
                {
                    let _ = std::fs::remove_file(path);
                }
                let listener = UnixListener::bind(path)?;
                Ok((Listener::Unix(listener, path.clone()), endpoint.clone()))
            }
            Endpoint::Inproc(name) => {
                let mut table = inproc_table().lock().unwrap_or_else(|p| p.into_inner());
                if table.get(name).is_some_and(|tx| !tx.is_closed()) {
                    return Err(io::ErrorKind::AddrInUse.into());
                }
                let (tx, rx) = mpsc::unbounded_channel();
                table.insert(name.clone(), tx);
                Ok((Listener::Inproc(rx, name.clone()), endpoint.clone()))
            }
        }
    }

    /// The next connection; `None` once the listener can accept no more.
    pub(crate) async fn accept(&mut self) -> Option<io::Result<Stream>> {
        match self {
            Listener::Tcp(l) => Some(l.accept().await.map(|(s, _)| {
                let _ = s.set_nodelay(true);
                Stream::Tcp(s)
            })),
            Listener::Unix(l, _) => Some(l.accept().await.map(|(s, _)| Stream::Unix(s))),
            Listener::Inproc(rx, _) => rx.recv().await.map(|s| Ok(Stream::Unix(s))),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        match self {
            Listener::Unix(_, path) => {
                let _ = std::fs::remove_file(path);
            }
            Listener::Inproc(rx, name) => {
                // Closed first, so the table entry reads as ours and gone.
                rx.close();
                let mut table = inproc_table().lock().unwrap_or_else(|p| p.into_inner());
                if table.get(name.as_str()).is_some_and(|tx| tx.is_closed()) {
                    table.remove(name.as_str());
                }
            }
            Listener::Tcp(_) => {}
        }
    }
}

/// Connects once (the caller retries).
pub(crate) async fn connect(endpoint: &Endpoint) -> io::Result<Stream> {
    match endpoint {
        Endpoint::Tcp { host, port } => {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let stream = TcpStream::connect((host, *port)).await?;
            stream.set_nodelay(true)?;
            Ok(Stream::Tcp(stream))
        }
        Endpoint::Ipc(path) => Ok(Stream::Unix(UnixStream::connect(path).await?)),
        Endpoint::Inproc(name) => {
            let tx = inproc_table()
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(name)
                .cloned()
                .ok_or(io::ErrorKind::ConnectionRefused)?;
            let (ours, theirs) = UnixStream::pair()?;
            tx.send(theirs)
                .map_err(|_| io::Error::from(io::ErrorKind::ConnectionRefused))?;
            Ok(Stream::Unix(ours))
        }
    }
}
