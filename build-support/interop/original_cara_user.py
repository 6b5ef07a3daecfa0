"""Original Python cara 0.10.3 clients (pseud git cadb5d6) that a server calls by user id.

usage: ORIGINAL_VENV/bin/python original_cara_user.py ENDPOINT SCHEMA_MODULE [--name server]
  ENDPOINT       the server, e.g. tcp://127.0.0.1:5555 (PLAIN: trusted_peer or a plain server
                 that accepts any password)
  SCHEMA_MODULE  the module the kit's gen.sh made from schemas/calculator.capnp (a file path)

Two clients set up as cara's docs/remote.md does (pseud.Client(b'server',
security_plugin='plain', user_id=, password=b'_'), connect, cara_pseud.setup_client, start):
  alice  serves a Calculator with cara's own cara_pseud.register_interface(client), which
         registers it under the bare method names, as on a server:
           evaluate(value)   reads the server's Value twice through cara's stub (WORK `call`),
                             lets bob try the same object id, prints
                             {"event":"evaluated","reads":[..],"other":{bob's error}} and returns the
                             first read doubled
           getAdder(offset)  returns a new Adder of alice's (cara sends it as ext 100,
                             [id, user id]) and prints {"event":"exported"}; the server calls
                             it back with WORK `call`, which cara_pseud.setup_client serves
  bob    another connection; it only tries the id alice was given.
alice serves no `cara.release` (cara 0.10.3 has none). Prints {"event":"ready"} once both are
started; runs until stdin closes. Nothing of cara or pseud is patched.
"""
import argparse
import importlib.util
import json
import logging
import os
import sys
import threading
import warnings

warnings.simplefilter('ignore', DeprecationWarning)  # zmq.eventloop.ioloop (pyzmq >= 17)

import pseud  # noqa: E402
import tornado.gen  # noqa: E402
import tornado.ioloop  # noqa: E402
from cara import cara_pseud  # noqa: E402


def load_schema_module(path):
    path = os.path.abspath(path)
    name = os.path.splitext(os.path.basename(path))[0]
    sys.path.insert(0, os.path.dirname(path))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def emit(event):
    print(json.dumps(event), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('endpoint')
    parser.add_argument('schema_module')
    parser.add_argument('--name', default='server')
    parser.add_argument('--debug', action='store_true', default=bool(os.getenv('PSEUD_DEBUG')))
    args = parser.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING)
    schema = load_schema_module(args.schema_module)
    Calculator, Adder, Value = schema.Calculator, schema.Adder, schema.Value
    io_loop = tornado.ioloop.IOLoop.current()
    clients = {}

    def login(user):
        client = pseud.Client(args.name.encode(), io_loop=io_loop, security_plugin='plain',
                              user_id=user.encode(), password=b'_')
        client.connect(args.endpoint)
        client = cara_pseud.setup_client(client)
        clients[user] = client
        return client

    class RunningTotal(Adder):
        def __init__(self, offset=0):
            self.total = offset

        def add(self, x):
            self.total += x
            return self.total

    status = {'rc': 0}

    @tornado.gen.coroutine
    def create_clients():
        try:
            yield start_clients()
        except Exception:
            logging.exception('original_cara_user.py: cannot start the clients')
            status['rc'] = 1
            io_loop.stop()

    @tornado.gen.coroutine
    def start_clients():
        alice = login('alice')
        bob = login('bob')

        # register_interface wants every method of the interface.
        @cara_pseud.register_interface(alice)
        class AliceCalculator(Calculator):
            def add(self, first, second):
                return first + second

            def divide(self, numerator, denominator):
                quotient = float(int(numerator / denominator))
                return (quotient, numerator - quotient * denominator)

            def stats(self):
                return {'calls': 0, 'lastOp': 0, 'history': []}

            def getAdder(self, offset):
                emit({'event': 'exported', 'offset': offset})
                return RunningTotal(offset)

            @tornado.gen.coroutine
            def evaluate(self, value):
                first = yield value.read()  # cara's stub: WORK `call` to the server
                try:
                    reached = yield bob.call(value.remote_id, Value.id, 0, [], {})
                    other = 'bob reached it: %r' % (reached,)
                except Exception as e:
                    # pseud wraps an unknown remote class as
                    # Exception('Class\n<remote traceback>\nmessage')
                    lines = [line for line in str(e).splitlines() if line.strip()]
                    named = type(e) is Exception and lines
                    other = {'class': lines[0] if named else type(e).__name__,
                             'message': lines[-1] if lines else ''}
                second = yield value.read()
                emit({'event': 'evaluated', 'reads': [first, second], 'other': other})
                return first * 2

        yield alice.start()
        yield bob.start()
        emit({'event': 'ready'})

    def wait_eof():
        try:
            while os.read(0, 65536):
                pass
        except OSError:
            pass
        io_loop.add_callback(io_loop.stop)

    threading.Thread(target=wait_eof, name='stdin-eof', daemon=True).start()
    io_loop.add_callback(create_clients)
    io_loop.start()
    for client in clients.values():
        try:
            client.stop()
        except Exception:
            pass
    return status['rc']


if __name__ == '__main__':
    sys.exit(main())
