"""tools/readme_session.py: which README lines are the session, what may vary, --update."""

from tools import readme_session as rs

README = """# x

## Try it by hand: a simulated pool

    eval "$(make -s play-up)"   # not a session line: no prompt

Some prose.

    $ first
    one
    two

    $ second
    $ third

    three

More prose.

    $ fourth
    pid 123 on 127.0.0.1:4567 in 0.4 s
      "vswitchd_pid": 4242

## Test

    $ not in the section
""".split("\n")


def test_the_session_is_the_prompted_blocks_of_the_section():
    steps = rs.session(README)
    assert [(s.command, s.shown) for s in steps] == [
        ("first", ["one", "two", ""]),
        ("second", []),
        ("third", ["", "three"]),
        ("fourth", ["pid 123 on 127.0.0.1:4567 in 0.4 s", '  "vswitchd_pid": 4242']),
    ]
    assert README[steps[0].first] == "    one"


def test_only_what_varies_may_differ():
    steps = rs.session(README)
    same = [["one", "two"], [], ["", "three"],
            ["pid 9 on 127.0.0.1:80 in 12 s", '  "vswitchd_pid": 7']]
    assert rs.differences(steps, same) == ""
    changed = [["one", "TWO"], [], ["", "three"],
               ["pid 9 on 127.0.0.2:80 in 12 s", '  "vswitchd_pid": 7']]
    diff = rs.differences(steps, changed)
    assert "$ first   (README.md line 9)" in diff and "-two" in diff and "+TWO" in diff
    assert "$ fourth" in diff and "$ second" not in diff


def test_log_lines_and_the_pools_directory_are_shown_as_the_readme_shows_them():
    printed = "a /tmp/x/xsovs-play/host1\nopenvswitch-boot: INFO running ovs-ctl\nb\n"
    assert rs._as_shown(printed, "/tmp/x/xsovs-play") == ["a /tmp/xsovs-play/host1", "b"]


def test_update_writes_what_ran_in_place_of_what_was_shown():
    steps = rs.session(README)
    lines = rs.updated(README, steps, [["uno"], ["new", ""], ["three"], ["pid 5"]])
    again = rs.session(lines)
    assert [(s.command, s.shown) for s in again] == [
        ("first", ["uno"]), ("second", ["new", ""]), ("third", ["three"]),
        ("fourth", ["pid 5"])]
    assert lines[-4:] == ["## Test", "", "    $ not in the section", ""]
