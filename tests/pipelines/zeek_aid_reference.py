#!/usr/bin/env python3
"""Independent reference for the Zeek conn log tests: computes the AID of
every row of a Zeek TSV conn log with hashlib and base64, the way Slips
does (aid_hash 1.1 with Slips' inputs), and can rewrite the log as a Zeek
JSON log.

Usage: zeek_aid_reference.py CONN_LOG [--json-log OUT]
Prints one line per row: uid, a tab, the AID ("" when Slips computes none).
"""
import argparse
import base64
import hashlib
import ipaddress
import json
import struct
import sys

PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1}
# ICMPv4 request and reply types; a flow with one of them hashes both ways alike.
ICMP_COUNTERPARTS = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 9: 10, 17: 18, 18: 17}
NUMBER_TYPES = {"count", "int", "double", "time", "interval", "port"}


def aid(ts_text, proto_name, source, source_port, destination, destination_port):
    proto = PROTOCOLS.get(proto_name.lower())
    if proto is None:
        return ""
    seconds, _, fraction = ts_text.partition(".")
    time_value = int(seconds + fraction.ljust(6, "0"))
    source_bytes = ipaddress.ip_address(source).packed
    destination_bytes = ipaddress.ip_address(destination).packed
    one_way = False
    if proto == 1:
        if source_port in ICMP_COUNTERPARTS:
            destination_port = ICMP_COUNTERPARTS[source_port]
        else:
            one_way = True
    source_port_bytes = struct.pack(">H", source_port)
    destination_port_bytes = struct.pack(">H", destination_port)
    keep = one_way or source_bytes < destination_bytes or (
        source_bytes == destination_bytes and source_port_bytes < destination_port_bytes)
    if not keep:
        source_bytes, destination_bytes = destination_bytes, source_bytes
        source_port_bytes, destination_port_bytes = destination_port_bytes, source_port_bytes
    message = (struct.pack(">HQ", 0, time_value) + source_bytes + destination_bytes + bytes([proto, 0]) +
               source_port_bytes + destination_port_bytes)
    return "2:" + base64.b64encode(hashlib.sha1(message).digest()).decode()


def json_value(value, type_name):
    """The JSON text Zeek's JSON writer gives a TSV value; numbers keep their digits."""
    if type_name.startswith("set[") or type_name.startswith("vector["):
        element_type = type_name[type_name.index("[") + 1:-1]
        items = [] if value == "(empty)" else value.split(",")
        return "[" + ",".join(json_value(item, element_type) for item in items) + "]"
    if type_name in NUMBER_TYPES:
        return value
    if type_name == "bool":
        return "true" if value == "T" else "false"
    return json.dumps("" if value == "(empty)" else value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("conn_log")
    parser.add_argument("--json-log")
    options = parser.parse_args()

    fields, types, json_lines = [], [], []
    with open(options.conn_log, encoding="utf-8") as log:
        for line in log:
            values = line.rstrip("\n").split("\t")
            if values[0] == "#fields":
                fields = values[1:]
            elif values[0] == "#types":
                types = values[1:]
            elif not line.startswith("#"):
                row = dict(zip(fields, values))
                print(row["uid"], aid(row["ts"], row["proto"], row["id.orig_h"], int(row["id.orig_p"]),
                                      row["id.resp_h"], int(row["id.resp_p"])), sep="\t")
                members = [json.dumps(name) + ":" + json_value(value, type_name)
                           for name, value, type_name in zip(fields, values, types) if value != "-"]
                json_lines.append("{" + ",".join(members) + "}")
    if options.json_log:
        with open(options.json_log, "w", encoding="utf-8") as out:
            out.write("".join(line + "\n" for line in json_lines))


if __name__ == "__main__":
    sys.exit(main())
