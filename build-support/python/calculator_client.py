"""A Python pseud 1.0.1 client of the cara calculator, under PLAIN security.

    cargo run --bin calculator -- serve --endpoint tcp://127.0.0.1:5555 --security trusted_peer &
    python build-support/python/calculator_client.py tcp://127.0.0.1:5555
"""
import asyncio
import sys

import pseud
import pseud_plain  # noqa: F401  registers security_plugin="plain"


async def first_call(call):
    # pseud 1.0.1 drops a call sent before its connection is up: retry the
    # first one rather than sleeping.
    for attempt in range(3):
        try:
            return await call()
        except asyncio.TimeoutError:
            if attempt == 2:
                raise


async def main(endpoint):
    client = pseud.Client(b"server", security_plugin="plain",
                          user_id=b"alice", password=b"anything", timeout=5)
    client.connect(endpoint)
    await client.start()
    try:
        print(await first_call(lambda: client.Calculator.add(2, 5)))  # 7
        print(await client.Calculator.add(first=2, second=5))  # 7
        print(await client.Calculator.divide(7.0, 2.0))  # {'quotient': 3.0, 'remainder': 1.0}
        print(await client.Calculator.stats())  # {0: 3, 1: 1, 2: (7, 7, 3)}: a struct, by field ordinal
        try:
            await client.Calculator.divide(1.0, 0.0)
        except ZeroDivisionError as e:
            print("ZeroDivisionError:", str(e).splitlines()[-1])  # float division by zero
        # A method whose name pseud's attribute wrapper takes for itself (`name`,
        # `rpc`, `user_id`) is called with send_work; so is any dotted name.
        print(await client.send_work(b"server", "Calculator.add", 1, 1))  # 2
    finally:
        await client.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
