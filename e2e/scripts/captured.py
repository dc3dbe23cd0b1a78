#!/usr/bin/python3
"""Reads sesame's captured mail (GET $SESAME_ENDPOINT/_aws/ses) for the e2e scripts.

  captured.py link ADDRESS          print the verification link mailed to ADDRESS
  captured.py expect SUBJECT TEXT   wait for a message with this subject whose
                                    decoded body (or raw data) contains TEXT

Both wait up to 10 s (delivery to the capture store is asynchronous) and exit 1
with the reason on stderr when nothing matches. Standard library only.
"""
import json
import os
import re
import sys
import time
import urllib.parse
import urllib.request

ENDPOINT = os.environ["SESAME_ENDPOINT"].rstrip("/")


def captured(email=None):
    url = ENDPOINT + "/_aws/ses"
    if email:
        url += "?" + urllib.parse.urlencode({"email": email})
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.load(resp)["messages"]


def texts(msg):
    body = msg.get("Body") or {}
    return [t for t in (body.get("text_part"), body.get("html_part"), msg.get("RawData")) if t]


def find_link(address):
    for msg in captured(address):
        for text in texts(msg):
            for link in re.findall(r"https?://[^\s\"'<>]+", text):
                link = link.replace("&amp;", "&")
                if link.startswith(ENDPOINT):
                    return link
    return None


def find_subject(subject, want):
    seen = []
    for msg in captured():
        seen.append(msg.get("Subject"))
        if msg.get("Subject") == subject and any(want in t for t in texts(msg)):
            return msg, seen
    return None, seen


def wait(fn, what):
    deadline = time.time() + 10
    while True:
        found = fn()
        if found:
            return found
        if time.time() > deadline:
            sys.exit("captured.py: " + what)
        time.sleep(0.05)


def main(argv):
    if len(argv) == 3 and argv[1] == "link":
        print(wait(lambda: find_link(argv[2]), "no verification link for " + argv[2]))
    elif len(argv) == 4 and argv[1] == "expect":
        last = []

        def look():
            msg, seen = find_subject(argv[2], argv[3])
            last[:] = seen
            return msg

        try:
            wait(look, "")
        except SystemExit:
            sys.exit("captured.py: no message %r containing %r; subjects: %r" % (argv[2], argv[3], last))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
