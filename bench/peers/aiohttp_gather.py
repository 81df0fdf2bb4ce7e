#!/usr/bin/python3
"""aiohttp_gather - the experiment's asyncio client: asyncio.gather over
one aiohttp.ClientSession.

    aiohttp_gather.py [--identity] URL_TEMPLATE ID|FIRST-LAST...

One coroutine per id, all gathered at once; the session's default
TCPConnector caps them at 100 connections and reuses them (keep-alive).
Each body is decoded with resp.json() and its "name" kept; the names are
printed in id order. "{id}" in URL_TEMPLATE is replaced by each id.

aiohttp asks for gzip by default and inflates it, as it would on the
internet; --identity sends Accept-Encoding: identity instead, for
bench/run's "same data" settings. The CA comes from SSL_CERT_FILE, which
the default SSL context honours. Run with Debian's /usr/bin/python3
(python3-aiohttp).
"""
import asyncio
import sys

import aiohttp


def parse_ids(args):
    ids = []
    for a in args:
        first, _, last = a.partition("-")
        ids.extend(range(int(first), int(last or first) + 1))
    return ids


async def fetch(session, url):
    async with session.get(url) as resp:
        resp.raise_for_status()
        return (await resp.json())["name"]


async def main(argv):
    headers = {}
    if argv and argv[0] == "--identity":
        headers["Accept-Encoding"] = "identity"
        argv = argv[1:]
    if len(argv) < 2:
        sys.exit("usage: aiohttp_gather.py [--identity] URL_TEMPLATE ID|FIRST-LAST...")
    template, ids = argv[0], parse_ids(argv[1:])
    async with aiohttp.ClientSession(headers=headers) as session:
        names = await asyncio.gather(
            *(fetch(session, template.replace("{id}", str(i))) for i in ids))
    print("\n".join(names))


asyncio.run(main(sys.argv[1:]))
