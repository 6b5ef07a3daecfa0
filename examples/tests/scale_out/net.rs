//! Hosts for the scale-out test: network namespaces the test creates, each
//! joined to a "broker" namespace by a veth pair on a private /24 of its own
//! (10.231.K.1 on the broker's side, 10.231.K.2 on the host's), and the
//! processes started in them. Everything is deleted on drop.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The namespaces of one test; `hosts[0]` is the broker's.
pub struct Net {
    prefix: String,
    hosts: Vec<String>,
    children: Vec<Child>,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap_or_else(|e| {
        panic!("cannot run `ip` ({e}): the scale-out test needs iproute2's ip (apt-get install iproute2) and root")
    });
    assert!(
        out.status.success(),
        "`ip {}` failed: {}\nthe scale-out test creates network namespaces: run it as root (build-support/scale-out.sh)",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

impl Net {
    /// The broker's namespace and one per name in `hosts`, each linked to the broker's.
    pub fn create(tag: &str, hosts: &[&str]) -> Net {
        let prefix = format!("cara{}{tag}", std::process::id() % 100_000);
        let mut net = Net {
            prefix: prefix.clone(),
            hosts: Vec::new(),
            children: Vec::new(),
        };
        let broker = format!("{prefix}-broker");
        ip(&["netns", "add", &broker]);
        net.hosts.push(broker.clone());
        ip(&["-n", &broker, "link", "set", "lo", "up"]);
        for (k, host) in hosts.iter().enumerate() {
            let k = k + 1;
            let ns = format!("{prefix}-{host}");
            ip(&["netns", "add", &ns]);
            net.hosts.push(ns.clone());
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
            // Interface names are at most 15 bytes: "v" + tag + index + side.
            let (a, b) = (format!("v{tag}{k}a"), format!("v{tag}{k}b"));
            ip(&[
                "-n", &broker, "link", "add", &a, "type", "veth", "peer", "name", &b, "netns", &ns,
            ]);
            ip(&[
                "-n",
                &broker,
                "addr",
                "add",
                &format!("10.231.{k}.1/24"),
                "dev",
                &a,
            ]);
            ip(&[
                "-n",
                &ns,
                "addr",
                "add",
                &format!("10.231.{k}.2/24"),
                "dev",
                &b,
            ]);
            ip(&["-n", &broker, "link", "set", &a, "up"]);
            ip(&["-n", &ns, "link", "set", &b, "up"]);
        }
        net
    }

    /// Lets the other hosts reach each other through the broker's host (it
    /// forwards; each host routes everything through it), for clients that
    /// call replicas directly.
    pub fn route_through_broker(&self, hosts: usize) {
        let broker = self.namespace("broker");
        // (/proc/sys/net is the writer's own namespace's.)
        ip(&[
            "netns",
            "exec",
            &broker,
            "sh",
            "-c",
            "echo 1 > /proc/sys/net/ipv4/ip_forward",
        ]);
        for (k, ns) in self.hosts.iter().skip(1).take(hosts).enumerate() {
            let via = format!("10.231.{}.1", k + 1);
            ip(&["-n", ns, "route", "add", "default", "via", &via]);
        }
    }

    /// The namespace of `host` ("broker", or a name given to `create`).
    pub fn namespace(&self, host: &str) -> String {
        format!("{}-{host}", self.prefix)
    }

    /// Starts `program` in `host`'s namespace and waits (up to 20 s) for a line of
    /// its standard output containing `ready`. Returns its index for [`Net::kill`].
    pub fn start(
        &mut self,
        host: &str,
        program: &str,
        args: &[&str],
        env: &[(&str, &str)],
        ready: &str,
    ) -> usize {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.namespace(host), program])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program} in {host}: {e}"));
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let index = self.children.len();
        self.children.push(child);
        loop {
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(line) if line.contains(ready) => return index,
                Ok(_) => {}
                Err(_) => {
                    panic!("{program} in {host} did not print {ready:?} within 20 s (or exited)")
                }
            }
        }
    }

    /// SIGKILLs a process started with [`Net::start`] (`ip netns exec` execs it:
    /// the child is the program itself) and reaps it.
    pub fn kill(&mut self, index: usize) {
        let child = &mut self.children[index];
        child.kill().expect("kill");
        child.wait().expect("reap");
    }

    /// Runs `f` on a thread of its own inside `host`'s namespace: sockets it (and
    /// the threads it starts, such as a tokio runtime's) opens live there.
    pub fn run_in<T: Send + 'static>(
        &self,
        host: &str,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        let path = format!("/var/run/netns/{}", self.namespace(host));
        std::thread::spawn(move || {
            let file = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
                .unwrap_or_else(|e| panic!("setns({path}): {e}: run as root"));
            f()
        })
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in &self.hosts {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}
