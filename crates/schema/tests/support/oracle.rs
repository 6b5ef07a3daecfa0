//! The official compiler as the oracle: running it and the front-end on the same files
//! and comparing their requests (see `request.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::request::{first_diff, normalize};

pub const INSTALL_HINT: &str = "install Debian package capnproto (apt-get install capnproto)";

pub fn require_capnp() {
    let ok = Command::new("capnp")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "`capnp` is not on PATH: {INSTALL_HINT}");
}

/// Where the standard schemas live: `/usr/include` when `libcapnp-dev` is installed,
/// otherwise a scratch copy of the bundled files (identical to 0.9.2's; see the stdlib unit
/// tests), laid out as `capnp/...`.
pub fn system_root() -> (PathBuf, Vec<String>, Option<tempfile::TempDir>) {
    if Path::new("/usr/include/capnp/schema.capnp").exists() {
        return (PathBuf::from("/usr/include"), Vec::new(), None);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in cara_schema::stdlib::FILES {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }
    let root = dir.path().to_path_buf();
    let args = vec![
        "--no-standard-import".to_string(),
        "-I".to_string(),
        root.to_string_lossy().into_owned(),
    ];
    eprintln!(
        "/usr/include/capnp is missing (Debian package libcapnp-dev); using the bundled copies"
    );
    (root, args, Some(dir))
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Compares both compilers on `files` (paths relative to `cwd`); returns a readable report of
/// differences, empty when identical.
pub fn compare(cwd: &Path, args: &[&str], files: &[&str]) -> String {
    let out = Command::new("capnp")
        .current_dir(cwd)
        .arg("compile")
        .args(args)
        .arg("-o-")
        .args(files)
        .output()
        .expect("run capnp");
    assert!(
        out.status.success(),
        "capnp failed on {files:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let official = normalize(&out.stdout);
    // Compile in-process against the same working directory.
    let mut c = cara_schema::Compiler::new();
    let mut i = 0;
    while i < args.len() {
        match args[i] {
            "-I" => {
                c = c.include(args[i + 1]);
                i += 1;
            }
            "--no-standard-import" => c = c.no_standard_import(),
            "--src-prefix" => {
                c = c.src_prefix(args[i + 1]);
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    let result = c.base_dir(cwd).compile(files);
    let set = match result {
        Ok(s) => s,
        Err(d) => return format!("cara failed on {files:?}:\n{d}"),
    };
    let ours = normalize(&set.to_request_bytes());
    let mut report = String::new();
    for (k, v) in &official {
        match ours.get(k) {
            None => report.push_str(&format!("missing in cara: {k}\n")),
            Some(o) if o != v => {
                report.push_str(&format!("differs: {k}\n{}\n", first_diff(v, o)));
            }
            _ => {}
        }
    }
    for k in ours.keys() {
        if !official.contains_key(k) {
            report.push_str(&format!("extra in cara: {k}\n"));
        }
    }
    report
}

pub fn capnp_files(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                capnp_files(&p, out);
            } else if p.extension().is_some_and(|e| e == "capnp") {
                out.push(p);
            }
        }
    }
}
