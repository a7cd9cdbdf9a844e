#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/.

Seeds are real messages in each format: the protocol exchange of the
reference documentation, the sample configuration, the MDT's
active_requests lines, HALs and KUC messages with Lustre's layout, simulator
requests, and journals as the stores write them. Run it again after changing
a format; crash reproducers found by the fuzzers are kept next to the
generated seeds (named crash-*) and are not touched.

sim_journal's seeds are journals sim-mdt wrote: the journal the sim_wire
target leaves after each of its seeds (archive-cycle, files), taken with
  FUZZ_KEEP_SCRATCH=1 build-fuzz/fuzz/fuzz_sim_wire fuzz/corpus/sim_wire/NAME
  cp SCRATCH/mnt/.lustre/state/journal fuzz/corpus/sim_journal/NAME
and journal_store's written-by-store is the journal JournalStore itself wrote
when the journal_store target copied four-requests (SCRATCH/copy/journal).
"""
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- protocol -------------------------------------------------------------
FID = {"f_seq": 8589935617, "f_oid": 42, "f_ver": 0}
ITEM = {"hai_action": 20, "hai_fid": FID, "hai_dfid": FID,
        "hai_extent_offset": 0, "hai_extent_length": -1,
        "hai_cookie": 1705095876, "hai_gid": 0, "hal_archive_id": 1,
        "hal_flags": 0, "hai_data": "tag=n1",
        "timestamp": 1767225600000000000}
EXCHANGE = [
    {"command": "ehlo", "fsname": "testfs", "archive_ids": [1],
     "id": "mover1"},
    {"command": "recv", "max_archive": 3, "max_restore": 3, "max_remove": 3,
     "max_bytes": 1048576},
    {"hsm_action_list": {"hal_version": 1, "hal_archive_id": 1,
                         "hal_fsname": "testfs", "list": [ITEM]},
     "command": "recv"},
    {"command": "done", "hai_cookie": 1705095876, "hai_dfid": FID,
     "status": 0},
    {"command": "queue", "fsname": "testfs", "hai_list": [ITEM]},
    {"command": "status", "verbose": 1},
    {"command": "lock"},
]


def dumps(obj, pretty=False):
    return json.dumps(obj, indent=1 if pretty else None,
                      separators=None if pretty else (",", ":"))


def protocol_seeds():
    # json_stream: [chunk size][limit/16 - 1] then the stream.
    stream = "".join(dumps(m) for m in EXCHANGE)
    write("json_stream", "exchange", b"\x07\xff" + stream.encode())
    write("json_stream", "exchange-newlines",
          b"\x00\xff" + "\n".join(dumps(m, True) for m in EXCHANGE).encode())
    write("json_stream", "one-byte-reads", b"\x00\x10" + dumps(EXCHANGE[0]).encode())
    write("json_stream", "escapes", b"\x03\x20" +
          dumps({"hai_data": "a\u00e9\u2603\ud83d\ude00\n\"\\",
                 "n": [1.5e300, -0, 18446744073709551615,
                       -9223372036854775808]}).encode())
    write("json_stream", "garbage-after", b"\x05\x40{\"a\":1} [1]")
    # action_item_decode: JSON text.
    write("action_item_decode", "item", dumps(ITEM))
    for action, data in ((21, "cr=ab"), (22, ""), (20, "project=climate tape=7")):
        item = dict(ITEM, hai_action=action, hai_data=data)
        write("action_item_decode", f"item-{action}", dumps(item))
    unsigned = dict(ITEM, hai_extent_length=18446744073709551615,
                    hai_cookie=9223372036854775808,
                    hai_fid={"f_seq": 8589935617, "f_oid": 4294967295,
                             "f_ver": -1})
    write("action_item_decode", "item-unsigned", dumps(unsigned))
    write("action_item_decode", "fid", dumps(FID))
    # action_item_roundtrip: the fixed fields (struct Fixed, 96 bytes) then
    # hai_data.
    def fixed(action, seq, oid, cookie, archive):
        return struct.pack("<I4xQIIQIIQQQQI4xQq", action, seq, oid, 0, seq,
                           oid, 0, 0, 2**64 - 1, cookie, 0, archive, 0,
                           1767225600000000000)
    assert len(fixed(0, 0, 0, 0, 0)) == 96
    write("action_item_roundtrip", "archive-tag",
          fixed(20, 8589935617, 42, 1705095876, 1) + b"tag=n1")
    write("action_item_roundtrip", "restore-utf8",
          fixed(21, 8589935617, 43, 1705095877, 2) +
          "user=j\u00e9r\u00f4me".encode())
    write("action_item_roundtrip", "no-data",
          fixed(22, 8589935617, 44, 1705095878, 1))


def messages_seeds():
    # messages: one object of the exchange each, and the fields movers add.
    for m in EXCHANGE:
        write("messages", m["command"] + ("-reply" if "hsm_action_list" in m
                                          else ""), dumps(m))
    write("messages", "ehlo-reconnect",
          dumps({"command": "ehlo", "fsname": "testfs", "progress": True,
                 "heartbeat": True, "id": "mover1", "archive_ids": [1, 2],
                 "hai_list": [ITEM]}))
    write("messages", "done-end-refused",
          dumps({"command": "done", "hai_cookie": -1, "hai_dfid": FID,
                 "status": 16, "begin_rc": -2, "end_rc": -16}))
    # Many dones in one message, with a bad entry among good ones, and its
    # reply listing the refusal.
    write("messages", "done-items",
          dumps({"command": "done", "items": [
              {"hai_cookie": 1705095876, "hai_dfid": FID, "status": 0},
              {"hai_cookie": 2, "hai_dfid": FID, "status": 5, "end_rc": -2,
               "hp_flags": 2},
              {"hai_cookie": 3}, 7]}))
    write("messages", "done-items-reply",
          dumps({"done": 2, "failed": [
              {"index": 2, "status": 22,
               "error": "items[2]: cookie or fid not set -- old client?"}],
              "command": "done", "status": 22,
              "error": "1 of 3 entries refused"}))
    write("messages", "queue-items",
          dumps({"command": "queue", "hal_fsname": "testfs",
                 "hsm_action_items": [ITEM, 3]}))
    write("messages", "auth", dumps({"command": "auth",
                                      "token": "H8d2K9mL3pQ7rS1tU5vW"}))
    write("messages", "auth-reply",
          dumps({"role": "mover,admin", "identity": "token ops",
                 "command": "auth"}))
    write("messages", "queue-reply",
          dumps({"enqueued": 1, "skipped": 2, "failed": [
              {"index": 1, "error": "not an object"}],
              "command": "queue", "status": 22,
              "error": "Error while parsing hsm action items"}))
    write("messages", "upcall",
          dumps({"command": "upcall", "action": "ARCHIVE",
                 "fsname": "testfs", "archive_id": 1, "flags": 0,
                 "data": "tag=a", "fids": [FID]}))
    write("messages", "ehlo-upcall-worker",
          dumps({"command": "ehlo", "id": "mover1-upcall",
                 "archive_ids": [1], "upcall_worker": True}))
    write("messages", "upcall-reply",
          dumps({"enqueued": 1, "command": "upcall"}))


# ---- config ---------------------------------------------------------------
def config_seeds():
    with open(os.path.join(HERE, "..", "packaging", "coordinatool.conf")) as f:
        sample = f.read()
    write("config_file", "packaging-sample", sample)
    uncommented = "\n".join(l[1:] if l.startswith("#") and " " in l
                            and not l.startswith("# ") else l
                            for l in sample.splitlines()) + "\n"
    write("config_file", "packaging-uncommented", uncommented)
    write("config_file", "client", "HOST server\r\nport 5123\nclient_id m1\n"
          "max_restore 4k\nmax_archive -1\nmax_remove 0x10\nhal_size 1M\n"
          "verbose debug\n")
    write("config_file", "env", "coordinatool_max_restore 2KiB\n"
          "coordinatool_client_grace 100\ncoordinatool_store embedded\n"
          "coordinatool_redis_port 70000\ncoordinatool_verbose info\n"
          "coordinatool_stale_timeout_ms 5000\n")
    write("config_file", "conflict", "movers m1 m2\n"
          "archive_on_hosts project=a m3\nbatch_archives_slices_sec 60 10\n"
          "fair_share_weight alice 0\n")


# ---- auth file --------------------------------------------------------------
def auth_file_seeds():
    write("auth_file", "example", "# operators\n"
          "admin   token ops      Zq4vR8nT2wX6yB1cD5eF\n"
          "monitor cert  \"subject=CN=nagios,O=Example Org\"\n"
          "mover   token mover1   H8d2K9mL3pQ7rS1tU5vW   mover1\n"
          "mover   cert  DNS:*.movers.example.org       m-*\n")
    write("auth_file", "bad-line", "admin token ops short\n")
    write("auth_file", "quotes", "monitor cert \"subject=CN=a \\\"b\\\",O=c"
          "\\\\d\"\nmover cert \"URI:spiffe://x/y\" \"m [0-9]*\"\n")
    write("auth_file", "two-roles",
          "admin token all 0123456789abcdefgh\n"
          "mover token all 0123456789abcdefgh *\n"
          "monitor token all 0123456789abcdefgh\n")


# ---- active_requests --------------------------------------------------------
def active_requests_seeds():
    lines = [
        "fid=[0x200000401:0x2a:0x0] dfid=[0x200000401:0x2a:0x0] "
        "compound/cookie=0x3/0x65a1b2c4 action=RESTORE archive#=2 flags=0x0 "
        "extent=0x0-0xffffffffffffffff gid=0x0 data=[63723D6162] canceled=0 "
        "uuid=0b1c2d3e-0000-4000-8000-000000000001 done=0",
        "fid=[0x200000401:0x2b:0x0] dfid=[0x200000401:0x2b:0x0] "
        "compound/cookie=0x0/0x65a1b2c5 action=ARCHIVE archive#=1 flags=0x0 "
        "extent=0x0-0xffffffffffffffff gid=0x0 data=[7461673D6E] canceled=0 "
        "uuid=0b1c2d3e-0000-4000-8000-000000000001 done=0",
        "fid=[0x200000401:0x2c:0x0] dfid=[0x200000401:0x2c:0x0] "
        "compound/cookie=0x0/0x65a1b2c6 action=REMOVE archive#=1 flags=0x0 "
        "extent=0x0-0xffffffffffffffff gid=0x0 data=[] canceled=1 "
        "uuid=0b1c2d3e-0000-4000-8000-000000000001 done=0",
    ]
    write("active_requests", "lctl",
          "\x00mdt.lustre-MDT0000.hsm.active_requests=\n" +
          "\n".join(lines) + "\n")
    write("active_requests", "debugfs", "\x00" + lines[0] + "\n")
    write("active_requests", "roundtrip",
          b"\x01" + struct.pack("<I4xQIIQIIQQI4xQQQQB7x", 21, 0x200000401, 42,
                                0, 0x200000401, 42, 0, 3, 0x65a1b2c4, 2, 0,
                                0, 2**64 - 1, 0, 5) + b"cr=ab")


# ---- HAL and KUC ----------------------------------------------------------
def hai(action, seq, oid, cookie, data=b""):
    return struct.pack("<IIQIIQIIQQQQ", 72 + len(data), action, seq, oid, 0,
                       seq, oid, 0, 0, 2**64 - 1, cookie, 0) + data


def pad8(b):
    return b + b"\0" * (-len(b) % 8)


def hal(items, fsname=b"lustre", archive=1, flags=0):
    out = struct.pack("<IIQQI4x", 1, len(items), 0x65a1b2c4, flags, archive)
    out += pad8(fsname + b"\0")
    for it in items:
        out += pad8(it)
    return out


def kuc(payload, transport=2, msgtype=100):
    return struct.pack("<HBBHH", 0x191C, transport, 0, msgtype,
                       8 + len(payload)) + payload


def hal_seeds():
    one = hal([hai(20, 0x200000401, 42, 0x65a1b2c4, b"tag=n1")])
    three = hal([hai(20, 0x200000401, 42, 1, b"project=climate"),
                 hai(21, 0x200000401, 43, 2),
                 hai(22, 0x200000401, 44, 3, b"\xff\xfe binary")], b"testfs", 2)
    write("hal", "one-archive", one)
    write("hal", "three-items", three)
    write("hal", "empty", hal([]))
    write("kuc_recv", "one-archive", b"\x00" + kuc(one))
    write("kuc_recv", "three-items-archive-2", b"\x02" + kuc(three))
    write("kuc_recv", "shutdown", b"\x00" + kuc(b"", 1, 1))
    write("kuc_recv", "other-archive", b"\x01" + kuc(three))


# ---- simulator wire -------------------------------------------------------
def packet(msgtype, payload=b"", seq=1):
    return struct.pack("<IHHIiII", 0x4D49534C, 1, msgtype, seq, 0,
                       len(payload), 0) + payload


def record(control, pkt):
    return struct.pack("<BH", control, len(pkt)) + pkt


def sim_wire_seeds():
    fid0 = struct.pack("<QII", 0x200000401, 1, 0)
    hur = struct.pack("<IIQII", 10, 1, 0, 1, 6) + fid0 + \
        struct.pack("<QQ", 0, 2**64 - 1) + b"tag=n1"
    cookie = 1700000001
    item = hai(20, 0x200000401, 1, cookie)
    copy = struct.pack("<QHHI", 0, 0, 0, 0) + item
    progress = fid0 + struct.pack("<QQQHHI", cookie, 0, 4, 0, 0, 0)
    archive = (record(1 | 8, packet(20)) +        # Fd2Fid on f0
               record(8, packet(31, hur, 2)) +    # HsmRequest ARCHIVE
               record(8 | 0x10, packet(11, copy, 3)) +  # CopyStart
               record(8, packet(12, progress, 4)) +
               record(8, packet(13, copy, 5)) +   # CopyEnd
               record(1 | 8, packet(21, b"", 6)) +  # StateGet
               record(8, packet(26, fid0, 7)) +   # Release
               record(8, packet(40, b"mdt.*.hsm.actions", 8)))
    write("sim_wire", "archive-cycle", archive)
    write("sim_wire", "params",
          record(8, packet(42)) +
          record(8, packet(40, b"mdt.lustre-MDT0000.hsm.active_requests\x000")) +
          record(8, packet(41, b"mdt.lustre-MDT0000.hsm.max_requests=10")) +
          record(8, packet(41, b"mdt.lustre-MDT0000.hsm_control=shutdown")))
    write("sim_wire", "files",
          record(2 | 8, packet(20)) + record(3 | 8, packet(20)) +
          record(2 | 8, packet(25)) + record(2 | 8, packet(28)) +
          record(2 | 8, packet(23)) +
          record(2 | 8 | 4, packet(22, struct.pack("<QQ", 0x1, 0))) +
          record(8, packet(30, struct.pack("<QIIqiI", 0x200000401, 2, 0, 0,
                                           0, 0))))
    write("sim_wire", "malformed", record(0, b"LSIM") +
          record(0, packet(99)) + record(0, packet(20)[:20]))


# ---- journals -------------------------------------------------------------
def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def jstring(s):
    return struct.pack("<I", len(s)) + s


def jrecord(kind, key, value=None):
    body = kind + jstring(key) + (jstring(value) if value is not None else b"")
    return struct.pack("<II", len(body), crc32c(body)) + body


def journal_store_seeds():
    def key(cookie, oid):
        return b"%016x%016x%08x%08x" % (cookie, 0x200000401, oid, 0)
    out = b"CDTJRN01"
    keys = []
    for n, (action, data) in enumerate(((20, "tag=n1"), (21, ""),
                                        (22, "project=a"), (20, "x"))):
        cookie = 1705095876 + n
        item = dict(ITEM, hai_action=action, hai_data=data, hai_cookie=cookie,
                    hai_fid=dict(FID, f_oid=42 + n),
                    hai_dfid=dict(FID, f_oid=42 + n))
        k = key(cookie, 42 + n)
        keys.append(k)
        out += jrecord(b"P", k, dumps(item).encode())
    out += jrecord(b"A", keys[0], b"mover1") + jrecord(b"A", keys[1], b"mover2")
    out += jrecord(b"U", keys[1]) + jrecord(b"F", keys[2])
    out += jrecord(b"P", b"not-a-request-key", b"{}")
    write("journal_store", "four-requests", out)
    write("journal_store", "torn-tail", out + jrecord(b"P", keys[3], b"{}")[:9])
    bad = bytearray(out)
    bad[60] ^= 0x40
    write("journal_store", "corrupt-middle", bytes(bad))
    write("journal_store", "empty", b"")
    write("journal_store", "header-only", b"CDTJRN01")


def main():
    protocol_seeds()
    messages_seeds()
    config_seeds()
    auth_file_seeds()
    active_requests_seeds()
    hal_seeds()
    sim_wire_seeds()
    journal_store_seeds()
    return 0


if __name__ == "__main__":
    sys.exit(main())
