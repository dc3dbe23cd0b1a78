#!/usr/bin/python3
"""Verifies a message's DKIM-Signature with Debian's python3-dkim (dkimpy), an
implementation independent of sesame's, resolving the key the way a receiver
would: the selector record <s>._domainkey.<d> is looked up at the "internet"
DNS server; when it is a CNAME into the delegated DKIM zone (Easy DKIM), the
TXT record at the CNAME's target is asked of the zone's own server — sesame's
[dns] listener.

  dkim_verify.py MESSAGE_FILE INTERNET_DNS ZONE ZONE_DNS

INTERNET_DNS and ZONE_DNS are host:port. Prints one JSON line (verified, d,
s, h, the names looked up) and exits 0 when the signature verifies, 1 when
it does not. Needs python3-dkim and python3-dnspython (.ci/run installs them).
"""
import json
import sys

import dkim
import dns.message
import dns.name
import dns.query
import dns.rdatatype


def ask(server, name, rdtype):
    host, port = server.rsplit(":", 1)
    query = dns.message.make_query(name, rdtype)
    return dns.query.udp(query, host, port=int(port), timeout=5)


def main():
    msg_file, internet, zone, zone_server = sys.argv[1:5]
    zone_name = dns.name.from_text(zone)
    message = open(msg_file, "rb").read()
    asked = []

    def dnsfunc(name, timeout=5):
        qname = name.decode() if isinstance(name, bytes) else name
        server = internet
        # A recursive resolver would follow the CNAME; the test server answers
        # only the type asked, so ask for the CNAME first.
        for rrset in ask(server, qname, "CNAME").answer:
            if rrset.rdtype == dns.rdatatype.CNAME:
                target = rrset[0].target
                if not target.is_subdomain(zone_name):
                    raise SystemExit("CNAME %s -> %s is outside %s" % (qname, target, zone))
                qname, server = target.to_text(), zone_server
                break
        reply = ask(server, qname, "TXT")
        asked.append("%s@%s" % (qname, server))
        for rrset in reply.answer:
            if rrset.rdtype == dns.rdatatype.TXT:
                return b"".join(b"".join(r.strings) for r in rrset)
        return None

    verifier = dkim.DKIM(message)
    error = ""
    try:
        ok = verifier.verify(dnsfunc=dnsfunc)
    except dkim.DKIMException as e:  # e.g. "body hash mismatch"
        ok, error = False, str(e)
    sig = verifier.signature_fields or {}
    out = {
        "verified": bool(ok),
        "d": sig.get(b"d", b"").decode(),
        "s": sig.get(b"s", b"").decode(),
        "h": sig.get(b"h", b"").decode().replace(" ", ""),
        "c": sig.get(b"c", b"").decode(),
        "a": sig.get(b"a", b"").decode(),
        "asked": asked,
        "error": error,
    }
    print(json.dumps(out))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
