//! `schema-bench`: times the pure-Rust front-end (parse + resolve + layout + encode) against
//! `capnp compile -o-` on the same files, and prints a final JSON line with both times and the
//! ratio.
//!
//! Usage: `schema-bench [ITERATIONS]` (default 20).  The official compiler's time includes
//! starting a process per compilation, as a build script would pay it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Case {
    cwd: PathBuf,
    args: Vec<String>,
    file: String,
}

fn capnp_files(dir: &Path, out: &mut Vec<PathBuf>) {
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

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let mut sys = Vec::new();
    capnp_files(Path::new("/usr/include/capnp"), &mut sys);
    for f in sys {
        if let Ok(rel) = f.strip_prefix("/usr/include") {
            out.push(Case {
                cwd: PathBuf::from("/usr/include"),
                args: Vec::new(),
                file: rel.to_string_lossy().into_owned(),
            });
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut feats = Vec::new();
    capnp_files(&root.join("schemas/frontend"), &mut feats);
    for f in feats {
        if let Ok(rel) = f.strip_prefix(&root) {
            out.push(Case {
                cwd: root.clone(),
                args: vec!["-I".into(), "schemas/frontend/include".into()],
                file: rel.to_string_lossy().into_owned(),
            });
        }
    }
    out
}

fn run_cara(c: &Case) -> bool {
    let mut compiler = cara_schema::Compiler::new().base_dir(&c.cwd);
    let mut i = 0;
    while i < c.args.len() {
        if c.args[i] == "-I" && i + 1 < c.args.len() {
            compiler = compiler.include(&c.args[i + 1]);
            i += 1;
        }
        i += 1;
    }
    match compiler.compile(&[&c.file]) {
        Ok(set) => !set.to_request_bytes().is_empty(),
        Err(_) => false,
    }
}

fn run_tool(tool: &Path, c: &Case) -> Option<bool> {
    let out = Command::new(tool)
        .current_dir(&c.cwd)
        .arg("compile")
        .args(&c.args)
        .arg("-o-")
        .arg(&c.file)
        .output()
        .ok()?;
    Some(out.status.success() && !out.stdout.is_empty())
}

fn main() {
    let iterations: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let cases = cases();

    let mut cara = Duration::ZERO;
    let mut cara_ok = true;
    for _ in 0..iterations {
        for c in &cases {
            let t = Instant::now();
            cara_ok &= run_cara(c);
            cara += t.elapsed();
        }
    }

    let mut capnp = Some(Duration::ZERO);
    for _ in 0..iterations {
        for c in &cases {
            let t = Instant::now();
            match run_tool(Path::new("capnp"), c) {
                Some(_) => {
                    if let Some(total) = &mut capnp {
                        *total += t.elapsed();
                    }
                }
                None => capnp = None,
            }
        }
    }

    // The `cara` CLI as a process, for a like-for-like comparison with process start-up.
    let cli = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("cara")))
        .filter(|p| p.exists());
    let mut cara_cli: Option<Duration> = cli.as_ref().map(|_| Duration::ZERO);
    if let Some(cli) = &cli {
        for _ in 0..iterations {
            for c in &cases {
                let t = Instant::now();
                let ok = run_tool(cli, c).unwrap_or(false);
                cara_ok &= ok;
                if let Some(total) = &mut cara_cli {
                    *total += t.elapsed();
                }
            }
        }
    }
    let cara_cli_ms = cara_cli.map(|d| d.as_secs_f64() * 1000.0);
    let cli_json = match cara_cli_ms {
        Some(ms) => format!("{ms:.3}"),
        None => "null".into(),
    };

    let cara_ms = cara.as_secs_f64() * 1000.0;
    println!(
        "cara: {} files x {iterations} iterations in {cara_ms:.1} ms (all ok: {cara_ok})",
        cases.len()
    );
    match capnp {
        Some(c) => {
            let capnp_ms = c.as_secs_f64() * 1000.0;
            println!("capnp compile -o- (process per file): {capnp_ms:.1} ms");
            if let Some(ms) = cara_cli_ms {
                println!("cara compile -o- (process per file): {ms:.1} ms");
            }
            let cli_ratio = match cara_cli_ms {
                Some(ms) => format!("{:.3}", capnp_ms / ms.max(1e-9)),
                None => "null".into(),
            };
            println!(
                "{{\"files\":{},\"iterations\":{iterations},\"cara_ms\":{cara_ms:.3},\"cara_cli_ms\":{cli_json},\"capnp_ms\":{capnp_ms:.3},\"ratio_capnp_over_cara\":{:.3},\"ratio_capnp_over_cara_cli\":{cli_ratio},\"cara_ok\":{cara_ok}}}",
                cases.len(),
                capnp_ms / cara_ms.max(1e-9)
            );
        }
        None => {
            println!(
                "capnp not found; install Debian package capnproto (apt-get install capnproto)"
            );
            println!(
                "{{\"files\":{},\"iterations\":{iterations},\"cara_ms\":{cara_ms:.3},\"cara_cli_ms\":{cli_json},\"capnp_ms\":null,\"ratio_capnp_over_cara\":null,\"ratio_capnp_over_cara_cli\":null,\"cara_ok\":{cara_ok}}}",
                cases.len()
            );
        }
    }
}
