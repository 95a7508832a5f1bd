"""Cutting ovsdb-server's byte stream into messages, however the reads fall."""

import json

import pytest

from xsovs_common.ovs.ovsdb import MessageSplitter

MESSAGES = [
    {"id": 1, "result": [{"rows": [{"name": "xenbr0", "external_ids": ["map", [
        ["note", 'braces } { and "quotes" \\ inside']]]}]}], "error": None},
    {"method": "echo", "params": [], "id": "echo"},
    {"id": 2, "result": [{"rows": [{"name": "é€😀 \\\\\" }"}]}], "error": None},
]


def _stream():
    # ensure_ascii=False: multi-byte UTF-8 characters on the wire, as OVS sends them.
    return b"\n".join(json.dumps(m, ensure_ascii=False).encode("utf-8") for m in MESSAGES)


def _split(data, size):
    splitter = MessageSplitter()
    out = []
    for start in range(0, len(data), size):
        splitter.feed(data[start:start + size])
        while True:
            message = splitter.pop()
            if message is None:
                break
            out.append(json.loads(message.decode("utf-8")))
    return out, splitter


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, 1 << 20])
def test_every_split_gives_the_same_messages(size):
    """Reads of any size: a multi-byte character, a string, an escape or a brace
    may end a read."""
    out, splitter = _split(_stream(), size)
    assert out == MESSAGES
    assert splitter.pop() is None


def test_an_incomplete_message_waits_for_more():
    data = json.dumps(MESSAGES[0]).encode()
    splitter = MessageSplitter()
    splitter.feed(data[:-1])
    assert splitter.pop() is None
    splitter.feed(data[-1:])
    assert json.loads(splitter.pop()) == MESSAGES[0]


def test_a_large_reply_in_many_reads():
    rows = [{"name": "xapi%d" % n, "external_ids": ["map", [["xs-network-uuids", "é" * 40]]]}
            for n in range(20000)]
    data = json.dumps({"id": 7, "result": [{"rows": rows}], "error": None},
                      ensure_ascii=False).encode("utf-8")
    out, _ = _split(data, 4093)    # an odd size: multi-byte characters split
    assert out[0]["result"][0]["rows"] == rows
