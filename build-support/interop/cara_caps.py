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
"""
import asyncio
import itertools
import json
import sys

import msgpack
import pseud
import zmq

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


if __name__ == "__main__":
    if sys.argv[1] == "client":
        asyncio.run(client(sys.argv[2], int(sys.argv[3])))
    else:
        asyncio.run(serve())
