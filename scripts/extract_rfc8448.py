#!/usr/bin/env python3
"""Extracts the record-layer known answers of RFC 8448 §3 into a data file.

Usage: scripts/extract_rfc8448.py ../shared/reference/rfc8448-tls13-traces.txt > tests/data/rfc8448_simple_1rtt.txt
       scripts/extract_rfc8448.py ../shared/reference/rfc8448-tls13-traces.txt --resumption > tests/data/rfc8448_resumption.txt

Each section of the trace ("{server}  send handshake record:") holds values
("complete record (679 octets):  17 03 ...") whose hex runs over several lines
and sometimes across a page break. Output lines are `name = hex`.
"""
import re
import sys

PAGE_NOISE = re.compile(r"^(Thomson\s+Expires|Internet-Draft\s+TLS 1.3 Traces)")
SECTION = re.compile(r"^   \{(client|server)\}\s+(.*?):?$")
VALUE = re.compile(r"^      ([A-Za-z ]+) \((\d+) octets\):\s+(.*)$")
HEX = re.compile(r"^\s+([0-9a-f]{2}( [0-9a-f]{2})*)\s*$")


def sections(lines, first="3.  Simple 1-RTT", stop="4.  Resumed 0-RTT"):
    """Yields (section title, label, bytes) for every value between the
    `first` and `stop` headings."""
    started = False
    title = None
    label = None
    want = 0
    data = []
    for line in lines:
        if line.startswith(first):
            started = True
        if line.startswith(stop):
            break
        if not started:
            continue
        if PAGE_NOISE.match(line):
            continue
        m = SECTION.match(line)
        if m:
            title = f"{m.group(1)} {m.group(2)}"
            continue
        m = VALUE.match(line)
        if m:
            label, want = m.group(1), int(m.group(2))
            data = m.group(3).split()
        elif label and HEX.match(line) and len(data) < want:
            data += line.split()
        else:
            continue
        if len(data) == want:
            yield title, label, "".join(data)
            label = None


# (section title, value label) -> name in the data file.
WANTED = {
    ('server derive secret "tls13 c hs traffic"', "expanded"): "client_handshake_traffic_secret",
    ('server derive secret "tls13 s hs traffic"', "expanded"): "server_handshake_traffic_secret",
    ('server derive secret "tls13 c ap traffic"', "expanded"): "client_application_traffic_secret",
    ('server derive secret "tls13 s ap traffic"', "expanded"): "server_application_traffic_secret",
    ("server derive write traffic keys for handshake data", "key info"): "key_info",
    ("server derive write traffic keys for handshake data", "iv info"): "iv_info",
    ("server derive write traffic keys for handshake data", "key expanded"): "server_handshake_key",
    ("server derive write traffic keys for handshake data", "iv expanded"): "server_handshake_iv",
    ("server derive write traffic keys for application data", "key expanded"): "server_application_key",
    ("server derive write traffic keys for application data", "iv expanded"): "server_application_iv",
    ("client derive write traffic keys for application data", "key expanded"): "client_application_key",
    ("client derive write traffic keys for application data", "iv expanded"): "client_application_iv",
    ("client send application_data record", "payload"): "application_data_payload",
    ("client create an ephemeral x25519 key pair", "private key"): "client_x25519_private",
    ("client create an ephemeral x25519 key pair", "public key"): "client_x25519_public",
    ("server create an ephemeral x25519 key pair", "private key"): "server_x25519_private",
    ("server create an ephemeral x25519 key pair", "public key"): "server_x25519_public",
    ("client construct a ClientHello handshake message", "ClientHello"): "client_hello",
    ("server construct a ServerHello handshake message", "ServerHello"): "server_hello",
    ('server extract secret "early"', "secret"): "early_secret",
    ('server extract secret "handshake"', "IKM"): "ecdhe_shared_secret",
    ('server extract secret "handshake"', "secret"): "handshake_secret",
    ('server extract secret "master"', "secret"): "master_secret",
    ('server derive secret "tls13 exp master"', "expanded"): "exporter_master_secret",
    ('client derive secret "tls13 res master"', "expanded"): "resumption_master_secret",
    ("client send application_data record", "complete record"): "client_application_data_record",
    ("server send application_data record", "complete record"): "server_application_data_record",
    ("client send alert record", "complete record"): "client_alert_record",
    ("server send alert record", "complete record"): "server_alert_record",
}

# Handshake records are numbered in the order they appear.
HANDSHAKE_RECORDS = {
    ("server", 1): "server_encrypted_flight",
    ("client", 1): "client_finished",
    ("server", 2): "server_new_session_ticket",
}


# RFC 8448 §4 (resumption): the PSK and its binder.
RESUMPTION = {
    ('client extract secret "early"', "IKM"): "psk",
    ('client extract secret "early"', "secret"): "early_secret",
    ("client construct a ClientHello handshake message", "ClientHello"): "client_hello",
    ("client calculate PSK binder", "ClientHello prefix"): "client_hello_prefix",
    ("client calculate PSK binder", "binder hash"): "binder_hash",
    ("client calculate PSK binder", "PRK"): "binder_key",
    ("client calculate PSK binder", "finished"): "binder",
    ("client send handshake record", "payload"): "client_hello_with_binders",
    # 0-RTT: the early secrets over the ClientHello, and the early record.
    ('client derive secret "tls13 c e traffic"', "hash"): "client_hello_hash",
    ('client derive secret "tls13 c e traffic"', "expanded"): "client_early_traffic_secret",
    ('client derive secret "tls13 e exp master"', "expanded"): "early_exporter_master_secret",
    ("client derive write traffic keys for early application data", "key expanded"): "early_key",
    ("client derive write traffic keys for early application data", "iv expanded"): "early_iv",
    ("client send application_data record", "payload"): "early_data",
    ("client send application_data record", "complete record"): "early_data_record",
}


# Values whose title and label come more than once, by occurrence (0 is
# the first): the client's second handshake record is its EndOfEarlyData,
# under the early key.
RESUMPTION_NTH = {
    ("client send handshake record", "payload", 1): "end_of_early_data",
    ("client send handshake record", "complete record", 1): "end_of_early_data_record",
}


def resumption():
    out = {}
    seen = {}
    with open(sys.argv[1]) as f:
        for title, label, hexed in sections(f.read().splitlines(), "4.  Resumed 0-RTT", "5.  HelloRetryRequest"):
            n = seen.get((title, label), 0)
            seen[(title, label)] = n + 1
            name = RESUMPTION_NTH.get((title, label, n)) or RESUMPTION.get((title, label))
            if name and name not in out:
                out[name] = hexed
    print("# RFC 8448 §4 (resumed 0-RTT handshake): PSK, binder, early-data and EndOfEarlyData known answers.")
    print("# Generated by scripts/extract_rfc8448.py --resumption; suite TLS_AES_128_GCM_SHA256.")
    for name, hexed in out.items():
        print(f"{name} = {hexed}")


HEADINGS = {
    "5": ("5.  HelloRetryRequest", "6.  Client Authentication"),
    "6": ("6.  Client Authentication", "7.  Compatibility Mode"),
    "7": ("7.  Compatibility Mode", "8.  Security Considerations"),
}


def dump(section):
    """Every value of a section, as `title | label | occurrence = hex`."""
    first, stop = HEADINGS[section]
    seen = {}
    print(f"# RFC 8448 §{section}: every value of the trace, in order.")
    print(f"# Generated by scripts/extract_rfc8448.py --section {section}.")
    with open(sys.argv[1]) as f:
        for title, label, hexed in sections(f.read().splitlines(), first, stop):
            n = seen.get((title, label), 0)
            seen[(title, label)] = n + 1
            print(f"{title} | {label} | {n} = {hexed}")


def main():
    if len(sys.argv) > 2 and sys.argv[2] == "--resumption":
        return resumption()
    if len(sys.argv) > 3 and sys.argv[2] == "--section":
        return dump(sys.argv[3])
    protected = {"client": 0, "server": 0}
    payload = None
    out = {}
    with open(sys.argv[1]) as f:
        for title, label, hexed in sections(f.read().splitlines()):
            side = title.split()[0]
            if title.endswith("send handshake record"):
                # Plaintext handshake records (ClientHello, ServerHello)
                # start with 0x16; only protected ones (0x17) are wanted.
                if label == "payload":
                    payload = hexed
                elif label == "complete record" and hexed.startswith("17"):
                    protected[side] += 1
                    base = HANDSHAKE_RECORDS.get((side, protected[side]))
                    if base:
                        out[base + "_payload"] = payload
                        out[base + "_record"] = hexed
                continue
            name = WANTED.get((title, label))
            if name and name not in out:
                out[name] = hexed
    print("# RFC 8448 §3 (simple 1-RTT handshake): record-layer known answers.")
    print("# Generated by scripts/extract_rfc8448.py; suite TLS_AES_128_GCM_SHA256.")
    for name, hexed in out.items():
        print(f"{name} = {hexed}")


main()
