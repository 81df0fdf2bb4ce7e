#!/usr/bin/python3
"""requests_loop - the experiment's slowest way: requests.get in a loop.

    requests_loop.py [--identity] URL_TEMPLATE ID|FIRST-LAST...

No Session, as in most first scripts: every requests.get opens a new TCP
connection and TLS handshake, so each id costs ~3 round trips. The names
are printed in id order. "{id}" in URL_TEMPLATE is replaced by each id.

requests asks for gzip by default and inflates it; --identity sends
Accept-Encoding: identity instead, for bench/run's "same data" settings.
The CA comes from REQUESTS_CA_BUNDLE. Run with Debian's /usr/bin/python3
(python3-requests).
"""
import sys

import requests


def parse_ids(args):
    ids = []
    for a in args:
        first, _, last = a.partition("-")
        ids.extend(range(int(first), int(last or first) + 1))
    return ids


def main(argv):
    headers = {}
    if argv and argv[0] == "--identity":
        headers["Accept-Encoding"] = "identity"
        argv = argv[1:]
    if len(argv) < 2:
        sys.exit("usage: requests_loop.py [--identity] URL_TEMPLATE ID|FIRST-LAST...")
    template = argv[0]
    for i in parse_ids(argv[1:]):
        resp = requests.get(template.replace("{id}", str(i)), headers=headers)
        resp.raise_for_status()
        print(resp.json()["name"])


main(sys.argv[1:])
