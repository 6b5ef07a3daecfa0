"""cara live capabilities against the real Python pseud 1.0.1, both directions.

    python cara_caps.py client ENDPOINT ADDER_INTERFACE_ID
        Calls the Rust `calculator` server: Calculator.getAdder(5) returns a cara
        object reference (msgpack ext 100); calls on it travel as WORK `call` with
        [object id, interface id, method ordinal, args, kwargs]. Prints one JSON line.

    python cara_caps.py serve
        A pseud server named "server" on tcp://127.0.0.1:* whose
        PyService.makeAdder(offset) hands out cara object references, served
        through `call` and freed by `cara.release`. Prints {"event":"ready",...};
        runs until stdin closes.

    python cara_caps.py user ENDPOINT VALUE_INTERFACE_ID ADDER_INTERFACE_ID
        Two pseud clients of a Rust server named "server", logged in with PLAIN
        as user ids "alice" and "bob" (password "x"; the server's trusted_peer
        makes the login the user id). alice serves what the server calls on her
        with send_to("alice"):
          Calculator.evaluate(value)  value is the server's object (ext 100):
              alice reads it (`call`), bob tries the same id (the server must
              refuse it), alice reads it again, releases it (`cara.release`),
              prints {"event":"evaluated","id":..,"reads":[..],"other":{error}}
              and returns the first read doubled.
          Calculator.getAdder(offset) returns an object of alice's (ext 100,
              payload [id, "alice"] as a cara client sends it) and prints
              {"event":"exported","id":..}; the server calls it through `call`
              and frees it with `cara.release` ({"event":"released",...}).
        Prints {"event":"ready"} once both handshakes are done; runs until stdin
        closes. Logins, the concurrent reader (an async handler here awaits
        calls to the server) and error decoding are pseud_peer.py's.
"""
import asyncio
import itertools
import json
import os
import sys
import types

import msgpack
import pseud
import zmq
import zmq.asyncio

EXT_EXPORTED = 100


async def client(endpoint, adder_interface):
    client = pseud.Client(b"server", timeout=5)
    client.connect(endpoint)
    await client.start()
    try:
        for attempt in range(3):  # pseud drops calls made before the connection is up
            try:
                ref = await client.Calculator.getAdder(5)
                break
            except asyncio.TimeoutError:
                if attempt == 2:
                    raise
        object_id = msgpack.unpackb(ref.data)
        first = await client.call(object_id, adder_interface, 0, [1], {})
        second = await client.call(object_id, adder_interface, 0, [], {"x": 10})
        try:
            await client.call(object_id + 1, adder_interface, 0, [1], {})
            wrong = None
        except Exception as exc:  # a guessed id must be refused
            # pseud raises a plain Exception named after an unknown remote class.
            wrong = "CapabilityError" if "CapabilityError" in (type(exc).__name__ + str(exc)) else repr(exc)
        print(json.dumps({"ext": ref.code, "first": first, "second": second, "guessed": wrong}), flush=True)
    finally:
        await client.stop()


class Adder:
    def __init__(self, total):
        self.total = total

    def add(self, x):
        self.total += x
        return self.total


async def serve():
    objects = {}
    refs = {}
    ids = itertools.count(1)
    server = pseud.Server(b"server")
    endpoint = "tcp://127.0.0.1:*"
    server.bind(endpoint)
    endpoint = server.socket.getsockopt(zmq.LAST_ENDPOINT).decode()

    def make_adder(offset):
        object_id = next(ids)
        objects[object_id] = Adder(offset)
        refs[object_id] = 1
        return msgpack.ExtType(EXT_EXPORTED, msgpack.packb(object_id))

    def call(object_id, interface_id, ordinal, args, kwargs):
        target = objects.get(object_id)
        if target is None:
            raise LookupError("no object %r" % (object_id,))
        if ordinal != 0:
            raise AttributeError("Adder has no method %r" % (ordinal,))
        return target.add(*args, **kwargs)

    def release(object_id, count):
        refs[object_id] = refs.get(object_id, 0) - count
        if refs[object_id] <= 0:
            objects.pop(object_id, None)
            refs.pop(object_id, None)
            print(json.dumps({"event": "released", "id": object_id}), flush=True)

    server.register_rpc(make_adder, name="PyService.makeAdder")
    server.register_rpc(call, name="call")
    server.register_rpc(release, name="cara.release")
    await server.start()
    print(json.dumps({"event": "ready", "endpoint": endpoint}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await server.stop()


def emit(event):
    print(json.dumps(event), flush=True)


async def user(endpoint, value_interface, adder_interface):
    # pseud_peer: the PLAIN client plugin, the concurrent reader and the handshake wait.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import pseud_peer

    def login(name):
        opts = types.SimpleNamespace(endpoint=endpoint, name="server", security="plain",
                                     user=name, password="x", timeout=5.0, serial=False,
                                     key=None, server_key=None)
        return pseud_peer.Connection(opts)

    alice, bob = login("alice"), login("bob")
    objects = {}
    refs = {}
    ids = itertools.count(1)

    def to_server(conn, name, *args):
        client = conn.client
        return client.send_work(client.peer_routing_id, name, *args)

    async def evaluate(value):
        if not (isinstance(value, msgpack.ExtType) and value.code == EXT_EXPORTED):
            raise TypeError("evaluate wants an object the server exported (ext 100), got %r"
                            % (value,))
        object_id = msgpack.unpackb(value.data)
        first = await to_server(alice, "call", object_id, value_interface, 0, [], {})
        try:
            reached = await to_server(bob, "call", object_id, value_interface, 0, [], {})
            other = {"class": None, "message": "bob reached it: %r" % (reached,)}
        except Exception as exc:
            other = pseud_peer.error_json(exc, bob.client.timeout)
        second = await to_server(alice, "call", object_id, value_interface, 0, [], {})
        await to_server(alice, "cara.release", object_id, 1)
        emit({"event": "evaluated", "id": object_id, "reads": [first, second], "other": other})
        return first * 2

    def get_adder(offset):
        object_id = next(ids)
        objects[object_id] = Adder(offset)
        refs[object_id] = 1
        emit({"event": "exported", "id": object_id})
        return msgpack.ExtType(EXT_EXPORTED, msgpack.packb([object_id, "alice"]))

    def call(object_id, interface_id, ordinal, args, kwargs):
        target = objects.get(object_id)
        if target is None:
            raise LookupError("alice has no object %r" % (object_id,))
        if interface_id != adder_interface or ordinal != 0:
            raise AttributeError("object %r is an Adder (interface %r, method 0), not %r/%r"
                                 % (object_id, adder_interface, interface_id, ordinal))
        return target.add(*args, **kwargs)

    def release(object_id, count):
        refs[object_id] = refs.get(object_id, 0) - count
        if refs[object_id] <= 0:
            objects.pop(object_id, None)
            refs.pop(object_id, None)
        emit({"event": "released", "id": object_id, "count": count})

    reg = alice.client.register_rpc
    reg(evaluate, name="Calculator.evaluate")
    reg(get_adder, name="Calculator.getAdder")
    reg(call, name="call")
    reg(release, name="cara.release")
    opened = []
    try:
        for conn in (alice, bob):
            opened.append(conn)
            await conn.open()
            failed = await conn.connected()
            if failed is not None:
                raise SystemExit("%s could not log in: %r" % (conn.opts.user, failed))
        emit({"event": "ready"})
        stop = asyncio.Event()
        pseud_peer.install_stop_triggers(asyncio.get_running_loop(), stop)
        await stop.wait()
    finally:
        for conn in opened:
            await conn.close()


if __name__ == "__main__":
    if sys.argv[1] == "client":
        asyncio.run(client(sys.argv[2], int(sys.argv[3])))
    elif sys.argv[1] == "user":
        try:
            asyncio.run(user(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
        finally:
            zmq.asyncio.Context.instance().destroy(linger=0)
    else:
        asyncio.run(serve())
