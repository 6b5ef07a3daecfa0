"""Calls the Rust `calculator` example exactly as a Python pseud user would.

    python calculator_client.py tcp://127.0.0.1:PORT

prints one JSON line: the results of client.Calculator.add(2, 5),
client.Calculator.add(first=2, second=5), client.add(2, 5) (the bare name) and
client.Calculator.divide(7.0, 2.0) (several results: a dict keyed by result name).
"""
import asyncio
import json
import sys

import pseud


async def main(endpoint):
    client = pseud.Client(b"server", timeout=5)
    client.connect(endpoint)
    await client.start()
    try:
        # pseud drops a call sent before the connection is up (after 4 quick
        # retries); try the first call a few times rather than sleeping.
        for attempt in range(3):
            try:
                first = await client.Calculator.add(2, 5)
                break
            except asyncio.TimeoutError:
                if attempt == 2:
                    raise
        by_name = await client.Calculator.add(first=2, second=5)
        bare = await client.add(2, 5)
        divided = await client.Calculator.divide(7.0, 2.0)
        print(json.dumps([first, by_name, bare, divided]), flush=True)
    finally:
        await client.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
