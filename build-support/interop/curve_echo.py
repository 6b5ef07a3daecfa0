#!/usr/bin/env python3
"""pyzmq (libzmq) CURVE peers for the Rust CURVE tests
(crates/pseud/src/zmtp/curve/interop.rs). Listens and connects on 127.0.0.1 only.

  curve_echo.py server --secret Z85 [--allow Z85]
      A ROUTER CURVE server bound to tcp://127.0.0.1:*. Prints "PORT <n>", then
      sends each message back to its sender with one frame more: the sender's
      long-term public key in Z85, as libzmq passed it to ZAP (the User-Id).
      With --allow, ZAP refuses every other key (status 400, which libzmq sends
      to the client as ERROR "400"). Exits when stdin closes.

  curve_echo.py client --port N --server-public Z85 --public Z85 --secret Z85
                       [--identity ID] [--frame HEX]...
      A DEALER CURVE client connected to 127.0.0.1:N. Sends one message made of
      the --frame parts, waits for one reply, prints
      'REPLY ["<hex>",...]' and exits 0; exits 1 if none comes in time.

Both give up after --timeout seconds (default 20) so that nothing lingers.
"""

import argparse
import json
import os
import sys
import threading

import zmq
from zmq.utils import z85


def exit_later(seconds):
    timer = threading.Timer(seconds, lambda: os._exit(2))
    timer.daemon = True
    timer.start()


def zap_handler(ctx, allow, ready):
    """ZAP (RFC 27) on inproc://zeromq.zap.01: user id = the client key in Z85."""
    zap = ctx.socket(zmq.REP)
    zap.bind("inproc://zeromq.zap.01")
    ready.set()
    while True:
        version, request_id, _domain, _address, _identity, mechanism, *creds = (
            zap.recv_multipart()
        )
        key = z85.encode(creds[0]).decode() if mechanism == b"CURVE" else ""
        if allow is None or key == allow:
            zap.send_multipart([version, request_id, b"200", b"OK", key.encode(), b""])
        else:
            zap.send_multipart([version, request_id, b"400", b"not allowed", b"", b""])


def serve(args):
    ctx = zmq.Context()
    ready = threading.Event()
    threading.Thread(target=zap_handler, args=(ctx, args.allow, ready), daemon=True).start()
    ready.wait()
    sock = ctx.socket(zmq.ROUTER)
    sock.curve_server = True
    sock.curve_secretkey = args.secret.encode()
    sock.bind("tcp://127.0.0.1:*")
    port = sock.getsockopt_string(zmq.LAST_ENDPOINT).rsplit(":", 1)[1]
    print("PORT", port, flush=True)

    def stop_on_eof():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=stop_on_eof, daemon=True).start()
    while True:
        frames = sock.recv_multipart(copy=False)
        user = frames[-1].get("User-Id")
        sock.send_multipart([f.bytes for f in frames] + [user.encode()])


def client(args):
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.curve_serverkey = args.server_public.encode()
    sock.curve_publickey = args.public.encode()
    sock.curve_secretkey = args.secret.encode()
    sock.routing_id = args.identity.encode()
    sock.linger = 0
    sock.connect("tcp://127.0.0.1:%d" % args.port)
    sock.send_multipart([bytes.fromhex(f) for f in args.frame])
    if not sock.poll(args.timeout * 1000):
        print("no reply", file=sys.stderr, flush=True)
        os._exit(1)
    reply = sock.recv_multipart()
    print("REPLY", json.dumps([f.hex() for f in reply], separators=(",", ":")), flush=True)
    os._exit(0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=20)
    sub = parser.add_subparsers(dest="mode", required=True)
    server_args = sub.add_parser("server")
    server_args.add_argument("--secret", required=True)
    server_args.add_argument("--allow")
    client_args = sub.add_parser("client")
    client_args.add_argument("--port", type=int, required=True)
    client_args.add_argument("--server-public", required=True)
    client_args.add_argument("--public", required=True)
    client_args.add_argument("--secret", required=True)
    client_args.add_argument("--identity", default="")
    client_args.add_argument("--frame", action="append", default=[])
    args = parser.parse_args()
    if not zmq.has("curve"):
        sys.exit("this pyzmq's libzmq has no CURVE")
    exit_later(args.timeout + 1)
    serve(args) if args.mode == "server" else client(args)


if __name__ == "__main__":
    main()
