//! `cara keygen`: certificate files that our loader and pyzmq's format agree on.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use cara::pseud::certificate;

fn cara() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cara"))
}

#[test]
fn keygen_writes_a_public_and_a_0600_secret_file_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let out = cara()
        .args(["keygen", "alice", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let printed = stdout
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("public key: "))
        .unwrap_or_else(|| panic!("first line gives the key: {stdout}"));
    let public = dir.path().join("alice.key");
    let secret = dir.path().join("alice.key_secret");
    assert_eq!(certificate::load(&public).unwrap().public.to_z85(), printed);
    let pair = certificate::load(&secret)
        .unwrap()
        .key_pair(&secret)
        .unwrap();
    assert_eq!(pair.public.to_z85(), printed);
    let mode = std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the secret file is the owner's only");
    assert!(
        !std::fs::read_to_string(&public)
            .unwrap()
            .contains("secret-key")
    );

    let again = cara()
        .args(["keygen", "alice", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!again.status.success(), "existing keys are kept");
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("alice.key_secret") && err.contains("exists"),
        "{err}"
    );
    assert_eq!(
        certificate::load(&public).unwrap().public.to_z85(),
        printed,
        "the first key pair is untouched"
    );
}
