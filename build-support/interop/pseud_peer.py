#!/usr/bin/env python3
"""Interop peer around the real Python ``pseud`` 1.0.1 (asyncio Server/Client).

Subcommands (see README.md in this directory):

  serve --endpoint E [--name server] [--security noop|trusted_peer|plain|curve]
        [--key SERVER.key_secret] [--call-client USER] [--timeout S] [--serial]
  call  --endpoint E [--name server] [--security noop|plain|curve] [--user U]
        [--password P] [--key CLIENT.key_secret --server-key SERVER.key]
        [--timeout S] [--stay S] [--serial] NAME [ARGS] [KWARGS]
  batch (the options of call)                        (JSON lines on stdin)

Protocol handling is entirely pseud's. This file only adds what pseud 1.0.1
does not ship (the PLAIN / trusted_peer auth plugins, registered the way pseud
registers its own), the JSON value convention, and one opt-out workaround:
by default incoming messages are handled concurrently (see ConcurrentReader).
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import threading
from collections import Counter

import msgpack
import zmq
import zmq.asyncio
import zmq.auth
import zope.component
import zope.interface
from zmq.auth.asyncio import AsyncioAuthenticator
from zmq.utils.monitor import parse_monitor_message

import pseud
import pseud.common
from pseud.auth import (NoOpAuthenticationBackendForClient,
                        NoOpAuthenticationBackendForServer)
from pseud.interfaces import IAuthenticationBackend, IClient, IServer
from pseud.packer import Packer
from pseud.utils import register_auth_backend

log = logging.getLogger("pseud_peer")

# Accounts accepted by `serve --security plain`.
PLAIN_ACCOUNTS = {"alice": "secret", "bob": "hunter2"}

# ---------------------------------------------------------------------------
# JSON value convention (shared with the Rust side)
# ---------------------------------------------------------------------------

_TAGS = ("$bytes", "$map", "$ext")
_PACKER = Packer()  # pseud's default ext table (datetime types <-> ext 123..126)


def to_json(value):
    """msgpack value as decoded by pseud -> JSON-able value."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, msgpack.ExtType):  # a namedtuple: test before tuple
        return {"$ext": [value.code, bytes(value.data).hex()]}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        plain = all(isinstance(k, str) for k in value)
        # a one-key str map whose key is a tag would read back as the tag
        if plain and not (len(value) == 1 and next(iter(value)) in _TAGS):
            return {k: to_json(v) for k, v in value.items()}
        return {"$map": [[to_json(k), to_json(v)] for k, v in value.items()]}
    # pseud unpacks ext 123..126 into datetime objects: give the ext back
    ext = _PACKER.ext_type_pack_hook(value)  # TypeError if unknown
    return {"$ext": [ext.code, ext.data.hex()]}


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def from_json(value):
    """JSON value -> Python value that pseud packs as the intended msgpack."""
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            (key, inner), = value.items()
            if key == "$bytes":
                return bytes.fromhex(inner)
            if key == "$map":
                return {_hashable(from_json(k)): from_json(v) for k, v in inner}
            if key == "$ext":
                code, data = inner
                return msgpack.ExtType(int(code), bytes.fromhex(data))
        return {k: from_json(v) for k, v in value.items()}
    return value


def dumps(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def emit(obj):
    sys.stdout.write(dumps(obj) + "\n")
    sys.stdout.flush()


_TB_BEGIN = "\n-- Beginning of remote traceback --"
_TB_END = "\n-- End of remote traceback --\n\n"


def error_json(exc, timeout=None):
    """An exception raised by a pseud call -> {"class": .., "message": ..}.

    pseud turns an ERROR reply [class, message, traceback] into an exception:
    the builtin class of that name (or a pseud.interfaces one such as
    ServiceNotFoundError) built with "<remote traceback block>\\n<message>",
    otherwise Exception("<class>\\n<remote traceback block>\\n<message>").
    Undo that to get the remote class and message back.
    """
    text = str(exc)
    pos = text.find(_TB_BEGIN)
    end = text.find(_TB_END)
    if pos >= 0 and end >= 0:
        klass = type(exc).__name__
        if pos > 0 and type(exc) is Exception:
            klass = text[:pos].rstrip("\n")
        return {"class": klass, "message": text[end + len(_TB_END):]}
    if isinstance(exc, asyncio.TimeoutError):
        return {"class": "TimeoutError",
                "message": "no reply within %ss" % (timeout,) if timeout else "timed out"}
    return {"class": type(exc).__name__, "message": text}


# ---------------------------------------------------------------------------
# Auth plugins that pseud 1.0.1 does not ship
# ---------------------------------------------------------------------------

# The client side is the module users copy (build-support/python/pseud_plain.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import pseud_plain  # noqa: E402,F401  registers security_plugin="plain" for clients
import pseud_curve  # noqa: E402,F401  registers security_plugin="curve" for clients


class _TrustAnyPassword(AsyncioAuthenticator):
    def _authenticate_plain(self, domain, username, password):
        return True, b"OK"


class _ZapServerBackend(NoOpAuthenticationBackendForServer):
    """ZMQ PLAIN server with an in-process ZAP handler on the server's own
    context (inproc://zeromq.zap.01). libzmq then tags every message with the
    ZAP user id (= PLAIN username); pseud reads it as "User-Id" metadata and
    calls register_routing_id(user_id, routing_id) for every message,
    the probe included. That map is what makes send_to(user_id) work."""

    def __init__(self, rpc):
        super().__init__(rpc)
        self.authenticator = None
        self.user_map = {}
        self.on_register = None  # callable(user_id), set by the peer

    def make_authenticator(self):
        raise NotImplementedError

    def configure(self):
        self.rpc.socket.plain_server = True
        if self.authenticator is None:
            self.authenticator = self.make_authenticator()
            self.authenticator.start()

    async def stop(self):
        if self.authenticator is not None:
            self.authenticator.stop()
            self.authenticator = None

    def get_routing_id(self, user_id):
        try:
            return self.user_map[user_id]
        except KeyError:
            raise LookupError("no connected peer has user id %r" % (user_id,)) from None

    def register_routing_id(self, user_id, routing_id):
        changed = self.user_map.get(user_id) != routing_id
        self.user_map[user_id] = routing_id
        if changed and self.on_register is not None:
            self.on_register(user_id)


@register_auth_backend
@zope.interface.implementer(IAuthenticationBackend)
@zope.component.adapter(IServer)
class TrustedPeerAuthenticationBackendForServer(_ZapServerBackend):
    """PLAIN; any password is accepted; user id = username."""
    name = "trusted_peer"

    def make_authenticator(self):
        return _TrustAnyPassword(self.rpc.context)


@register_auth_backend
@zope.interface.implementer(IAuthenticationBackend)
@zope.component.adapter(IServer)
class PlainAuthenticationBackendForServer(_ZapServerBackend):
    """PLAIN; the password is checked against PLAIN_ACCOUNTS."""
    name = "plain"

    def make_authenticator(self):
        auth = AsyncioAuthenticator(self.rpc.context)
        auth.configure_plain(domain="*", passwords=dict(PLAIN_ACCOUNTS))
        return auth


@register_auth_backend
@zope.interface.implementer(IAuthenticationBackend)
@zope.component.adapter(IServer)
class CurveAuthenticationBackendForServer(_ZapServerBackend):
    """CURVE with the server's keys (Server(public_key=, secret_key=)); any client
    key is admitted, and its user id is the key in Z85 (pyzmq's ZAP default)."""
    name = "curve"

    def configure(self):
        self.rpc.socket.curve_server = True
        self.rpc.socket.curve_publickey = self.rpc.public_key
        self.rpc.socket.curve_secretkey = self.rpc.secret_key
        if self.authenticator is None:
            self.authenticator = self.make_authenticator()
            self.authenticator.start()

    def make_authenticator(self):
        auth = AsyncioAuthenticator(self.rpc.context)
        auth.configure_curve(domain="*", location=zmq.auth.CURVE_ALLOW_ANY)
        return auth


SECURITY_PLUGINS = {"noop": "noop_auth_backend", "plain": "plain",
                    "trusted_peer": "trusted_peer", "curve": "curve"}


def curve_keys(opts):
    """(public, secret, peer public) Z85 keys from --key / --server-key certificate files."""
    if opts.security != "curve":
        return None, None, None
    if not opts.key:
        raise SystemExit("--security curve needs --key FILE (a NAME.key_secret certificate)")
    public, secret = zmq.auth.load_certificate(opts.key)
    if secret is None:
        raise SystemExit("--key %s holds no secret key" % opts.key)
    peer = None
    if getattr(opts, "server_key", None):
        peer, _ = zmq.auth.load_certificate(opts.server_key)
    return public, secret, peer

# ---------------------------------------------------------------------------
# Reader: pseud's own (serial) or one task per incoming message
# ---------------------------------------------------------------------------


class ConcurrentReader:
    """pseud 1.0.1 awaits each incoming message's handling before reading the
    next one, so a handler that awaits a call back to its caller deadlocks
    until the timeout (and the late reply then kills the reader: KeyError on
    an unknown id). By default each message is handed to pseud's own
    on_socket_ready in its own task. --serial keeps pseud's reader.

    Where pseud's reader would have died, the concurrent reader reports
    {"event":"reader_error",...} (serve only) and goes on."""

    def _init_reader(self, serial, events):
        self._serial = serial
        self._events = events
        self._tasks = set()

    async def start(self):
        if self.reader is None:
            if self._serial:
                coro = pseud.common.read_forever(self.socket, self.on_socket_ready)
            else:
                coro = self._read_concurrently()
            self.reader = self.loop.create_task(coro)
            self.reader.add_done_callback(self._reader_done)
        self.counter = Counter()

    async def _read_concurrently(self):
        while True:
            message = await self.socket.recv_multipart(copy=False)
            task = self.loop.create_task(self.on_socket_ready(message))
            self._tasks.add(task)
            task.add_done_callback(self._message_done)

    def _message_done(self, task):
        self._tasks.discard(task)
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        log.error("pseud failed on an incoming message (its own reader would stop here)",
                  exc_info=(type(exc), exc, exc.__traceback__))
        if self._events:
            emit({"event": "reader_error", "error": error_json(exc)})

    def _reader_done(self, task):
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("pseud's reader stopped", exc_info=(type(exc), exc, exc.__traceback__))
            if self._events:
                emit({"event": "reader_stopped", "error": error_json(exc)})

    async def stop(self):
        for task in list(self._tasks):
            task.cancel()
        await super().stop()


@zope.interface.implementer(IServer)
class PeerServer(ConcurrentReader, pseud.Server):
    def __init__(self, *args, serial=False, **kw):
        super().__init__(*args, **kw)
        self._init_reader(serial, events=True)


@zope.interface.implementer(IClient)
class PeerClient(ConcurrentReader, pseud.Client):
    def __init__(self, *args, serial=False, **kw):
        super().__init__(*args, **kw)
        self._init_reader(serial, events=False)


# ---------------------------------------------------------------------------
# serve
# ---------------------------------------------------------------------------


def install_stop_triggers(loop, stop):
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def wait_eof():
        # os.read, not sys.stdin: a daemon thread blocked inside a buffered
        # reader makes interpreter shutdown abort (SIGTERM case)
        try:
            while os.read(0, 65536):
                pass
        except OSError:
            pass
        log.info("stdin closed: stopping")
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait_eof, name="stdin-eof", daemon=True).start()


async def serve(opts):
    loop = asyncio.get_running_loop()
    if opts.call_client and opts.security == "noop":
        raise SystemExit("--call-client needs --security trusted_peer or plain "
                         "(with noop pseud learns no user id)")
    public, secret, _ = curve_keys(opts)
    server = PeerServer(opts.name.encode(), security_plugin=SECURITY_PLUGINS[opts.security],
                        public_key=public, secret_key=secret,
                        timeout=opts.timeout, serial=opts.serial)
    background = {}  # user id -> [task, ...] started by callback.ping

    def caller(user_id):
        if not user_id:
            raise LookupError("the caller has no user id (security noop), "
                              "so pseud cannot address it with send_to()")
        return server.send_to(user_id)

    async def ping_back(user_id):
        try:
            return await caller(user_id).client.ping()
        except Exception as exc:
            return {"error": error_json(exc, server.timeout)}

    def add(a, b):
        return a + b

    def echo(x):
        return x

    def fail():
        raise ValueError("boom")

    async def sleep(seconds):
        await asyncio.sleep(seconds)
        return seconds

    def upper(s):
        return s.upper()

    def kw(a, b=2):
        return [a, b]

    def whoami(user_id):
        return user_id

    def callback_ping(user_id):
        caller(user_id)
        background.setdefault(user_id, []).append(loop.create_task(ping_back(user_id)))
        return "scheduled"

    async def callback_results(user_id):
        # waits for the ones still running (bounded by the server's timeout)
        return list(await asyncio.gather(*background.get(user_id, [])))

    async def callback_inline(user_id):
        return await caller(user_id).client.ping()

    reg = server.register_rpc
    reg(add, name="add")
    reg(echo, name="echo")
    reg(fail, name="fail")
    reg(sleep, name="sleep")
    reg(upper, name="string.upper")
    reg(kw, name="kw")
    reg(whoami, name="whoami", with_identity=True)
    reg(callback_ping, name="callback.ping", with_identity=True)
    reg(callback_results, name="callback.results", with_identity=True)
    reg(callback_inline, name="callback.inline", with_identity=True)

    if opts.call_client:
        target = opts.call_client.encode()

        async def call_client(user_id):
            try:
                result = await server.send_to(user_id).client.ping()
            except Exception as exc:
                emit({"event": "server_callback", "user": opts.call_client, "ok": False,
                      "error": error_json(exc, server.timeout)})
            else:
                emit({"event": "server_callback", "user": opts.call_client, "ok": True,
                      "result": to_json(result)})

        def on_register(user_id):
            if user_id == target:
                loop.create_task(call_client(user_id))

        server.auth_backend.on_register = on_register

    server.bind(opts.endpoint)
    await server.start()
    endpoint = server.socket.getsockopt(zmq.LAST_ENDPOINT).decode()
    emit({"event": "ready", "endpoint": endpoint})

    stop = asyncio.Event()
    install_stop_triggers(loop, stop)
    await stop.wait()
    # stopping: a second SIGTERM/SIGINT (e.g. after stdin EOF) must not turn
    # the clean exit into "killed by signal"
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(sig)
        signal.signal(sig, signal.SIG_IGN)
    await server.stop()
    return 0


# ---------------------------------------------------------------------------
# call / batch
# ---------------------------------------------------------------------------

_HANDSHAKE_EVENTS = {
    zmq.EVENT_HANDSHAKE_SUCCEEDED: None,
    zmq.EVENT_HANDSHAKE_FAILED_AUTH: "authentication",
    zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL: "protocol",
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL: "no detail",
}


class Connection:
    """A pseud Client plus a ZMQ socket monitor.

    The monitor is not part of pseud: it lets the peer wait for the ZMTP
    handshake before the first call, and turn a refused PLAIN handshake into an
    immediate error. (pseud itself cannot see it: with ROUTER_MANDATORY its
    send gets EHOSTUNREACH, which it retries 4 times over ~0.4 s and then
    drops silently; the caller only gets a TimeoutError after `timeout`.)
    """

    def __init__(self, opts):
        self.opts = opts
        user = opts.user.encode() if opts.user is not None else None
        password = opts.password.encode() if opts.password is not None else None
        if opts.security == "plain" and (user is None or password is None):
            raise SystemExit("--security plain needs --user and --password")
        public, secret, server_key = curve_keys(opts)
        if opts.security == "curve" and server_key is None:
            raise SystemExit("--security curve needs --server-key FILE (the server's NAME.key)")
        self.client = PeerClient(opts.name.encode(), security_plugin=SECURITY_PLUGINS[opts.security],
                                 user_id=user, password=password, timeout=opts.timeout,
                                 public_key=public, secret_key=secret,
                                 peer_public_key=server_key, serial=opts.serial)
        self.client.register_rpc(lambda: "pong", name="client.ping")
        self.handshake = None
        self.monitor = None
        self.monitor_task = None

    async def open(self):
        loop = asyncio.get_running_loop()
        self.handshake = loop.create_future()
        # pseud's _setup_socket reuses a socket created beforehand
        self.client.socket = self.client.context.socket(zmq.ROUTER)
        self.monitor = self.client.socket.get_monitor_socket(sum(_HANDSHAKE_EVENTS))
        self.monitor_task = loop.create_task(self._watch())
        self.client.connect(self.opts.endpoint)
        await self.client.start()

    async def _watch(self):
        while True:
            event = parse_monitor_message(await self.monitor.recv_multipart())
            kind = event["event"]
            if kind not in _HANDSHAKE_EVENTS or self.handshake.done():
                continue
            if _HANDSHAKE_EVENTS[kind] is None:
                self.handshake.set_result(None)
            else:
                status = event["value"]
                if kind == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                    text = ("the server refused the PLAIN handshake (ZAP status %s): "
                            "wrong user name or password" % status)
                    self.handshake.set_result({"class": "UnauthorizedError", "message": text})
                else:
                    detail = _HANDSHAKE_EVENTS[kind]
                    if kind == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL:
                        detail = "errno %s: %s" % (status, os.strerror(status))
                    else:  # ZMQ_PROTOCOL_ERROR_* code, e.g. 0x11000003 = mechanism mismatch
                        detail = "protocol error 0x%08x" % status
                    text = ("ZMTP handshake with %s failed (%s); does --security match "
                            "the server's?" % (self.opts.endpoint, detail))
                    self.handshake.set_result({"class": "HandshakeError", "message": text})

    async def connected(self):
        """None once connected, else an error dict."""
        try:
            return await asyncio.wait_for(asyncio.shield(self.handshake), self.opts.timeout)
        except asyncio.TimeoutError:
            return {"class": "TimeoutError",
                    "message": "no ZMTP handshake with %s within %ss" % (self.opts.endpoint,
                                                                        self.opts.timeout)}

    async def call(self, name, args, kwargs):
        """(ok, json value or error dict)"""
        failed = await self.connected()
        if failed is not None:
            return False, failed
        try:
            args = [from_json(a) for a in args]
            kwargs = {k: from_json(v) for k, v in kwargs.items()}
        except Exception as exc:
            return False, {"class": "UsageError", "message": "bad JSON argument: %s" % exc}
        client = self.client
        try:
            # pseud enforces `timeout` itself; the outer guard is a backstop
            result = await asyncio.wait_for(
                client.send_work(client.peer_routing_id, name, *args, **kwargs),
                client.timeout + 2)
        except Exception as exc:
            return False, error_json(exc, client.timeout)
        try:
            return True, to_json(result)
        except Exception as exc:
            return False, {"class": type(exc).__name__,
                           "message": "cannot express the result in JSON: %s" % exc}

    async def close(self):
        if self.monitor_task is not None:
            self.monitor_task.cancel()
        try:
            self.client.socket.disable_monitor()
        except zmq.ZMQError:
            pass
        if self.monitor is not None:
            self.monitor.close(linger=0)
        await self.client.stop()


def _parse_json_arg(text, kind, what):
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise SystemExit("%s is not valid JSON: %s" % (what, exc))
    if not isinstance(value, kind):
        raise SystemExit("%s must be a JSON %s" % (what, "array" if kind is list else "object"))
    return value


async def call(opts):
    args = _parse_json_arg(opts.args, list, "ARGS_JSON")
    kwargs = _parse_json_arg(opts.kwargs, dict, "KWARGS_JSON")
    conn = Connection(opts)
    await conn.open()
    try:
        ok, value = await conn.call(opts.name_, args, kwargs)
        emit(value if ok else {"error": value})
        if opts.stay > 0:
            await asyncio.sleep(opts.stay)  # keep answering server -> client calls
    finally:
        await conn.close()
    return 0 if ok else 1


async def batch(opts):
    loop = asyncio.get_running_loop()
    conn = Connection(opts)
    await conn.open()
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            if not line.strip():
                continue
            try:
                req = json.loads(line)
                name = req["name"]
                args = req.get("args", [])
                kwargs = req.get("kwargs", {})
                if not isinstance(name, str) or not isinstance(args, list) \
                        or not isinstance(kwargs, dict):
                    raise ValueError("name must be a string, args an array, kwargs an object")
            except (ValueError, KeyError, TypeError) as exc:
                emit({"error": {"class": "UsageError", "message": "bad request line: %s" % exc}})
                continue
            ok, value = await conn.call(name, args, kwargs)
            emit(value if ok else {"error": value})
    finally:
        await conn.close()
    return 0


# ---------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p, securities):
        p.add_argument("--endpoint", required=True, help="e.g. tcp://127.0.0.1:5555")
        p.add_argument("--name", default="server", help="the server's routing id (default: server)")
        p.add_argument("--security", choices=securities, default="noop")
        p.add_argument("--timeout", type=float, default=5.0,
                       help="pseud call timeout in seconds (default 5, as pseud)")
        p.add_argument("--serial", action="store_true",
                       help="use pseud's own one-message-at-a-time reader")

    p = sub.add_parser("serve", help="run a pseud Server")
    common(p, ["noop", "trusted_peer", "plain", "curve"])
    p.add_argument("--key", help="CURVE: the server's NAME.key_secret certificate")
    p.add_argument("--call-client", metavar="USER",
                   help="call client.ping on USER once it connects")

    for name in ("call", "batch"):
        p = sub.add_parser(name, help="pseud Client: %s" % (
            "one call" if name == "call" else "calls read as JSON lines from stdin"))
        common(p, ["noop", "plain", "curve"])
        p.add_argument("--key", help="CURVE: our NAME.key_secret certificate")
        p.add_argument("--server-key", help="CURVE: the server's NAME.key certificate")
        p.add_argument("--user", help="PLAIN user name (= the user id the server sees)")
        p.add_argument("--password", help="PLAIN password")
        if name == "call":
            p.add_argument("--stay", type=float, default=0.0,
                           help="keep serving server->client calls for S seconds after the call")
            p.add_argument("name_", metavar="NAME")
            p.add_argument("args", metavar="ARGS_JSON", nargs="?", default="[]")
            p.add_argument("kwargs", metavar="KWARGS_JSON", nargs="?", default="{}")

    opts = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if opts.verbose else logging.WARNING,
                        format="pseud_peer %(levelname)s %(name)s: %(message)s")
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    runner = {"serve": serve, "call": call, "batch": batch}[opts.command]
    try:
        code = asyncio.run(runner(opts))
    finally:
        zmq.asyncio.Context.instance().destroy(linger=0)
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
