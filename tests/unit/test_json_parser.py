"""The JSON parser the sync daemons give the ``ovs`` library when it has no C parser:
messages found in a stream cut anywhere, as ``ovs.jsonrpc`` feeds it."""

import json
import random

from xsovs_common.sync import json_parser, service

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:     # the Python 3.6 unit run has no hypothesis; the cases above still run
    given = None


def feed_like_jsonrpc(stream, cuts):
    """The messages of ``stream`` fed in pieces cut at ``cuts``, the way
    ovs.jsonrpc.Connection.recv feeds its C parser (what it took, in bytes, is
    dropped from its input)."""
    messages, parser, pending = [], None, ""
    pieces = [stream[a:b] for a, b in zip([0] + cuts, cuts + [len(stream)])]
    for piece in pieces:
        pending += piece
        while pending:
            if parser is None:
                parser = json_parser.Parser()
            pending = pending.encode("utf-8")[parser.feed(pending):].decode("utf-8")
            if not parser.is_done():
                break
            messages.append(parser.finish())
            parser = None
    return messages


MESSAGES = [
    {"id": 1, "method": "update", "params": [None, {"ACL": {"u": {"new": {
        "match": 'inport == "web" && tcp.dst == 22', "external_ids": ["map", []]}}}}]},
    {"id": "echo", "result": [], "error": None},
    {"s": 'quotes " and \\ backslashes \\" and }] brackets [{ in strings', "é": "ünï ☃"},
    {"n": [1, -2.5, 1e3, True, False, None, [], {}, [[[]]]]},
]


def test_messages_cut_at_every_place():
    stream = "".join(json.dumps(m, ensure_ascii=ensure) + space
                     for m, ensure, space in zip(MESSAGES, (True, False, True, False),
                                                 ("", " \n", "", "\t")))
    for cut in range(1, len(stream)):
        assert feed_like_jsonrpc(stream, [cut]) == MESSAGES, cut
    assert feed_like_jsonrpc(stream, list(range(1, len(stream)))) == MESSAGES


def test_random_cuts_of_a_large_stream():
    rng = random.Random(7)
    messages = [{"rows": [{"name": "p%d" % n, "addresses": ["set", ["02:00 10.0.%d.1" % n]],
                           "note": "\\" * (n % 4) + '"' * (n % 3)} for n in range(k)]}
                for k in range(0, 60, 7)]
    stream = "".join(json.dumps(m) for m in messages)
    for _ in range(50):
        cuts = sorted(rng.sample(range(1, len(stream)), 30))
        assert feed_like_jsonrpc(stream, cuts) == messages


def test_errors_and_whole_documents():
    parser = json_parser.Parser()
    parser.feed('{"a": tru}')
    assert parser.is_done() and isinstance(parser.finish(), str)
    whole = json_parser.Parser(check_trailer=True)
    whole.feed('{"a": [1, 2]}  ')
    assert whole.finish() == {"a": [1, 2]}
    trailing = json_parser.Parser(check_trailer=True)
    trailing.feed('{"a": 1} x')
    assert isinstance(trailing.finish(), str)
    scalar = json_parser.Parser(check_trailer=True)
    scalar.feed(' "text" ')
    assert scalar.finish() == "text"


def test_installed_in_the_library_the_daemons_load():
    ovs = service.load_ovs("test")
    assert ovs.json.PARSER == ovs.json.PARSER_C
    assert ovs.json.from_string('{"x": ["set", [1, 2]]}') == {"x": ["set", [1, 2]]}


if given is not None:
    JSON = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda children: st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=5), children, max_size=4), max_leaves=20)

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.dictionaries(st.text(max_size=5), JSON, max_size=4), min_size=1,
                    max_size=4), st.lists(st.integers(min_value=1), max_size=6),
           st.booleans())
    def test_any_messages_any_cuts(messages, cuts, ascii_only):
        stream = "".join(json.dumps(m, ensure_ascii=ascii_only) for m in messages)
        cuts = sorted({c % len(stream) for c in cuts} - {0})
        assert feed_like_jsonrpc(stream, cuts) == messages
