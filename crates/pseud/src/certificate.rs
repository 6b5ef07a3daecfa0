//! CURVE key files in the ZeroMQ certificate format that pyzmq
//! (`zmq.auth.create_certificates` / `load_certificate`) and czmq use, so the
//! same files serve Python and Rust peers: `NAME.key` holds the public key,
//! `NAME.key_secret` (mode 0600) both keys.
//!
//! ```text
//! #   ZeroMQ CURVE **Secret** Certificate
//! metadata
//! curve
//!     public-key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
//!     secret-key = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::keys::{KeyError, KeyPair, PublicKey, SecretKey};

/// What went wrong with a key file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file has no `public-key` line.
    #[error("{path}: no public-key in this file (is it a ZeroMQ certificate?)")]
    NoPublicKey {
        /// The file.
        path: PathBuf,
    },
    /// A key in the file is not 40 characters of Z85.
    #[error("{path}: {source}")]
    BadKey {
        /// The file.
        path: PathBuf,
        /// What is wrong with the key.
        source: KeyError,
    },
    /// The secret key does not belong to the public key next to it.
    #[error("{path}: the secret key does not match the public key")]
    Mismatch {
        /// The file.
        path: PathBuf,
    },
    /// The file has a public key only, and a secret one is needed.
    #[error("{path}: holds no secret-key: give the NAME.key_secret file")]
    NoSecretKey {
        /// The file.
        path: PathBuf,
    },
}

/// The keys a certificate file holds.
#[derive(Clone, Debug)]
pub struct Certificate {
    /// The public key.
    pub public: PublicKey,
    /// The secret key, in a `.key_secret` file.
    pub secret: Option<SecretKey>,
}

impl Certificate {
    /// Both keys, for a file that has the secret one.
    pub fn key_pair(self, path: &Path) -> Result<KeyPair, CertificateError> {
        let secret = self.secret.ok_or_else(|| CertificateError::NoSecretKey {
            path: path.to_path_buf(),
        })?;
        Ok(KeyPair::from_secret(secret))
    }
}

/// Reads a certificate file (`NAME.key` or `NAME.key_secret`).
pub fn load(path: impl AsRef<Path>) -> Result<Certificate, CertificateError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| CertificateError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let value = |name: &str| {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| {
                let (key, value) = l.split_once('=')?;
                (key.trim() == name).then(|| value.trim().trim_matches(['"', '\'']).to_string())
            })
    };
    let bad = |source| CertificateError::BadKey {
        path: path.to_path_buf(),
        source,
    };
    let public = value("public-key").ok_or_else(|| CertificateError::NoPublicKey {
        path: path.to_path_buf(),
    })?;
    let public = PublicKey::from_z85(&public).map_err(bad)?;
    let secret = match value("secret-key") {
        Some(s) => {
            let secret = SecretKey::from_z85(&s).map_err(bad)?;
            if KeyPair::from_secret(secret.clone()).public != public {
                return Err(CertificateError::Mismatch {
                    path: path.to_path_buf(),
                });
            }
            Some(secret)
        }
        None => None,
    };
    Ok(Certificate { public, secret })
}

/// Reads the public keys of every `*.key` file in `dir` (pyzmq's
/// `load_certificates`): the clients a CURVE server admits.
pub fn load_public_keys(
    dir: impl AsRef<Path>,
) -> Result<Vec<(PathBuf, PublicKey)>, CertificateError> {
    let dir = dir.as_ref();
    let io = |source| CertificateError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut keys = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().is_some_and(|e| e == "key") {
            let cert = load(&path)?;
            keys.push((path, cert.public));
        }
    }
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(keys)
}

/// A public key as given on a command line: 40 characters of Z85, or the path
/// of a certificate file holding it.
pub fn public_key_arg(arg: &str) -> Result<PublicKey, CertificateError> {
    if arg.len() == 40
        && let Ok(key) = PublicKey::from_z85(arg)
    {
        return Ok(key);
    }
    load(arg).map(|c| c.public)
}

/// A CURVE client's keys as command lines give them: the server's public key
/// (see [`public_key_arg`]) and our key file (`NAME.key_secret`), or a fresh key
/// pair without one. Returns (server public key, our key pair).
pub fn client_keys(
    server_key: &str,
    key: Option<&Path>,
) -> Result<(PublicKey, KeyPair), CertificateError> {
    let server = public_key_arg(server_key)?;
    let keys = match key {
        Some(path) => load(path)?.key_pair(path)?,
        None => KeyPair::generate(),
    };
    Ok((server, keys))
}

/// The clients a server admits with an allow directory: each `NAME.key` file's
/// public key, under the user id `NAME`.
pub fn allowed_clients(
    dir: impl AsRef<Path>,
) -> Result<Vec<(PublicKey, String)>, CertificateError> {
    Ok(load_public_keys(dir)?
        .into_iter()
        .map(|(path, key)| {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            (key, name)
        })
        .collect())
}

/// Writes `dir/NAME.key` (public) and `dir/NAME.key_secret` (both keys, created
/// with mode 0600); refuses to overwrite either. Returns both paths.
pub fn write(
    dir: impl AsRef<Path>,
    name: &str,
    keys: &KeyPair,
) -> Result<(PathBuf, PathBuf), CertificateError> {
    let dir = dir.as_ref();
    let public_path = dir.join(format!("{name}.key"));
    let secret_path = dir.join(format!("{name}.key_secret"));
    let public = format!(
        "#   ****  Generated by cara for Rust  ****\n\
         #   ZeroMQ CURVE Public Certificate\n\
         #   Exchange securely, or use a secure mechanism to verify the contents\n\
         #   of this file after exchange.\n\
         metadata\ncurve\n    public-key = \"{}\"\n",
        keys.public.to_z85()
    );
    let secret = format!(
        "#   ****  Generated by cara for Rust  ****\n\
         #   ZeroMQ CURVE **Secret** Certificate\n\
         #   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n\
         metadata\ncurve\n    public-key = \"{}\"\n    secret-key = \"{}\"\n",
        keys.public.to_z85(),
        keys.secret.to_z85()
    );
    write_new(&secret_path, &secret, 0o600)?;
    if let Err(e) = write_new(&public_path, &public, 0o644) {
        let _ = std::fs::remove_file(&secret_path);
        return Err(e);
    }
    Ok((public_path, secret_path))
}

fn write_new(path: &Path, text: &str, mode: u32) -> Result<(), CertificateError> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| CertificateError::Io {
        path: path.to_path_buf(),
        source,
    };
    // Created with its final mode: a secret key is never readable by others, not
    // even for a moment.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_files_load_back_with_modes() {
        let dir = std::env::temp_dir().join(format!("pseud-cert-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let keys = KeyPair::generate();
        let (public, secret) = write(&dir, "server", &keys).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let loaded = load(&public).unwrap();
        assert_eq!(loaded.public, keys.public);
        assert!(loaded.secret.is_none());
        assert!(matches!(
            load(&public).unwrap().key_pair(&public),
            Err(CertificateError::NoSecretKey { .. })
        ));
        let pair = load(&secret).unwrap().key_pair(&secret).unwrap();
        assert_eq!(pair.public, keys.public);
        assert!(matches!(
            write(&dir, "server", &keys),
            Err(CertificateError::Io { .. })
        ));
        let listed = load_public_keys(&dir).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].1, keys.public);
        assert_eq!(
            allowed_clients(&dir).unwrap(),
            vec![(keys.public, "server".to_string())]
        );
        assert_eq!(public_key_arg(&keys.public.to_z85()).unwrap(), keys.public);
        assert_eq!(
            public_key_arg(public.to_str().unwrap()).unwrap(),
            keys.public
        );
        std::fs::write(dir.join("bad.key"), "curve\n    public-key = \"short\"\n").unwrap();
        assert!(matches!(
            load_public_keys(&dir),
            Err(CertificateError::BadKey { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
