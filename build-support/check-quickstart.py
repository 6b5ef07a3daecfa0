#!/usr/bin/env python3
"""Runs docs/quickstart.md as a new user would, verbatim: a fresh crate next to a
checkout named `cara-rust`, the page's Cargo.toml lines, schema, build.rs and
src/main.rs, `cargo run`, the printed lines, then the page's Python client against
it. Fails (exit 1) with what differed.

    build-support/check-quickstart.py [PYTHON]

PYTHON is a python with pseud 1.0.1 (default: the venv build-support/test.sh makes,
target/interop-venv/bin/python). Uses the repository's target directory, so the cara
crates already built there are reused.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fail(message):
    print("check-quickstart: FAILED: " + message, file=sys.stderr, flush=True)
    sys.exit(1)


def blocks(text):
    """The page's fenced blocks, in order: (language, body)."""
    return re.findall(r"```(\w*)\n(.*?)```", text, re.S)


def main():
    python = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        ROOT, "target", "interop-venv", "bin", "python")
    if not os.path.exists(python):
        fail(f"no python with pseud 1.0.1 at {python}: run build-support/test.sh first "
             "(it creates the venv) or pass one")
    page = open(os.path.join(ROOT, "docs", "quickstart.md"), encoding="utf-8").read()
    found = blocks(page)
    toml = next(b for lang, b in found if lang == "toml")
    capnp = next(b for lang, b in found if lang == "capnp")
    rust = [b for lang, b in found if lang == "rust"]
    build_rs = next(b for b in rust if "cara_build::Config" in b)
    main_rs = next(b for b in rust if "#[tokio::main]" in b)
    expected = next(b for lang, b in found if lang == "text" and "serving on" in b)
    client_py = next(b for lang, b in found if lang == "python")

    work = tempfile.mkdtemp(prefix="cara-quickstart-")
    try:
        # "a checkout of this repository (here ../cara-rust)"
        os.symlink(ROOT, os.path.join(work, "cara-rust"))
        run(["cargo", "new", "--quiet", "hello-cara"], work)
        crate = os.path.join(work, "hello-cara")
        os.mkdir(os.path.join(crate, "schemas"))
        # `cargo new` wrote an empty [dependencies]; the page's lines replace it.
        manifest = open(os.path.join(crate, "Cargo.toml"), encoding="utf-8").read()
        manifest = manifest.replace("[dependencies]\n", "") + "\n" + toml
        write(os.path.join(crate, "Cargo.toml"), manifest)
        write(os.path.join(crate, "schemas", "calculator.capnp"), capnp)
        write(os.path.join(crate, "build.rs"), build_rs)
        write(os.path.join(crate, "src", "main.rs"), main_rs)
        env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(ROOT, "target", "quickstart"))
        built = subprocess.run(["cargo", "build", "--quiet"], cwd=crate, env=env)
        if built.returncode != 0:
            fail("the quickstart crate does not build")
        server = subprocess.Popen(["cargo", "run", "--quiet"], cwd=crate, env=env,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
        try:
            want = expected.strip().splitlines()
            got = [server.stdout.readline().rstrip("\n") for _ in want]
            if got != want:
                fail(f"`cargo run` printed {got!r}, the page says {want!r}")
            out = subprocess.run([python, "-c", client_py], capture_output=True, text=True,
                                 timeout=60)
            if out.returncode != 0:
                fail(f"the page's Python client failed:\n{out.stdout}{out.stderr}")
            # Each print's comment says what it prints (`# 7`, `# 7: the bare name`).
            said = [line.split("#", 1)[1].strip() for line in client_py.splitlines()
                    if "print(" in line and "#" in line]
            lines = out.stdout.strip().splitlines()
            if len(lines) != len(said) or not all(s.startswith(l) for l, s in zip(lines, said)):
                fail(f"the Python client printed {lines!r}; the page's comments say {said!r}")
        finally:
            server.send_signal(signal.SIGINT)  # "Ctrl-C to stop"
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                fail("the quickstart server did not stop on Ctrl-C")
        readme_crate(work, env)
        print(f"check-quickstart: ok ({len(want)} lines from cargo run, "
              f"{len(lines)} from the Python client; the README's schema quick start)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def readme_crate(work, env):
    """The README's "Quick start: schemas": its schema, build.rs and main.rs print 7."""
    found = blocks(open(os.path.join(ROOT, "README.md"), encoding="utf-8").read())
    capnp = next(b for lang, b in found if lang == "capnp")
    rust = [b for lang, b in found if lang == "rust"]
    build_rs = next(b for b in rust if "cara_build::Config" in b)
    main_rs = next(b for b in rust if "include_schemas" in b)
    run(["cargo", "new", "--quiet", "readme-cara"], work)
    crate = os.path.join(work, "readme-cara")
    os.mkdir(os.path.join(crate, "schemas"))
    manifest = open(os.path.join(crate, "Cargo.toml"), encoding="utf-8").read()
    # "The crate depends on cara and tokio (features macros, rt-multi-thread), and has
    # cara-build as a build-dependency"
    manifest = manifest.replace("[dependencies]\n", "") + (
        '\n[dependencies]\ncara = { path = "../cara-rust/crates/cara" }\n'
        'tokio = { version = "1", features = ["macros", "rt-multi-thread"] }\n'
        '\n[build-dependencies]\ncara-build = { path = "../cara-rust/crates/build" }\n')
    write(os.path.join(crate, "Cargo.toml"), manifest)
    write(os.path.join(crate, "schemas", "calculator.capnp"), capnp)
    write(os.path.join(crate, "build.rs"), build_rs)
    write(os.path.join(crate, "src", "main.rs"), main_rs)
    out = subprocess.run(["cargo", "run", "--quiet"], cwd=crate, env=env, capture_output=True,
                         text=True, timeout=900)
    if out.returncode != 0 or out.stdout.strip() != "7":
        fail(f"the README's schema quick start printed {out.stdout!r}:\n{out.stderr}")


def run(cmd, cwd):
    if subprocess.run(cmd, cwd=cwd).returncode != 0:
        fail(f"{' '.join(cmd)} failed in {cwd}")


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
