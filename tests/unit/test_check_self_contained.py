"""tools/check_self_contained.py: a file pointing outside the repository fails lint."""

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(REPO, "tools", "check_self_contained.py")

# Built from pieces, so that this file does not trip the check itself.
OUTSIDE = [
    "See ../" + "shared/design" + ".md for the map.",
    "the map (in this " + "workplace) says so",
    "Targets (Issue" + " 3): fast.",
    "steps 1-8 of is" + "sue 12",
    "as design" + ".md says",
]
INSIDE = [
    "See docs/design" + ".md, \"The network cache\".",
    "an issue of the tracker",
    "designed for speed",
]


def run(top):
    return subprocess.run([sys.executable, TOOL, str(top)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)


def test_the_repository_is_self_contained():
    done = run(REPO)
    assert done.returncode == 0, done.stdout


def test_each_outside_reference_is_named(tmp_path):
    write(str(tmp_path / "docs" / ("design" + ".md")), "\n".join(INSIDE) + "\n")
    for number, line in enumerate(OUTSIDE):
        write(str(tmp_path / "pkg" / ("m%d.py" % number)), '"""Doc.\n\n%s\n"""\n' % line)
    done = run(tmp_path)
    assert done.returncode == 1
    found = sorted(done.stdout.splitlines())
    assert found == sorted("pkg/m%d.py:3: %s" % (n, line) for n, line in enumerate(OUTSIDE))


def test_references_inside_pass(tmp_path):
    write(str(tmp_path / "README.md"), "\n".join(INSIDE) + "\n")
    done = run(tmp_path)
    assert (done.returncode, done.stdout) == (0, "")


def test_only_tracked_files_count_in_a_checkout(tmp_path):
    write(str(tmp_path / "tracked.txt"), INSIDE[0] + "\n")
    write(str(tmp_path / "untracked.txt"), OUTSIDE[0] + "\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "tracked.txt"], check=True)
    assert run(tmp_path).returncode == 0
    subprocess.run(["git", "-C", str(tmp_path), "add", "untracked.txt"], check=True)
    done = run(tmp_path)
    assert done.returncode == 1
    assert done.stdout == "untracked.txt:1: %s\n" % OUTSIDE[0]
