"""Atomic writes and all-or-nothing file sets."""

import os

import pytest

from xsovs_common.system import files


def test_atomic_write_creates_directories_and_mode(tmp_path):
    path = str(tmp_path / "a" / "b" / "file")
    files.atomic_write(path, "hello\n", mode=0o600)
    assert open(path).read() == "hello\n"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.listdir(str(tmp_path / "a" / "b")) == ["file"]


def test_atomic_write_failure_keeps_old_file(tmp_path):
    path = str(tmp_path / "file")
    files.atomic_write(path, "old")

    class Boom(str):
        pass
    with pytest.raises(TypeError):
        files.atomic_write(path, 42)   # not text: fails mid-write
    assert open(path).read() == "old"
    assert os.listdir(str(tmp_path)) == ["file"]


def test_fileset_commit_and_remove(tmp_path):
    keep, gone = str(tmp_path / "keep"), str(tmp_path / "gone")
    files.atomic_write(gone, "x")
    fs = files.FileSet()
    fs.stage(keep, "new")
    fs.stage(gone, None)
    fs.commit()
    assert open(keep).read() == "new"
    assert not os.path.exists(gone)


def test_fileset_failure_restores_everything(tmp_path):
    first, second = str(tmp_path / "first"), str(tmp_path / "second")
    files.atomic_write(first, "first-old")
    blocker = tmp_path / "dir"
    blocker.mkdir()
    (blocker / "child").write_text("x")
    fs = files.FileSet()
    fs.stage(first, "first-new")
    fs.stage(second, "second-new")
    fs.stage(str(blocker), "cannot replace a non-empty directory")
    with pytest.raises(OSError):
        fs.commit()
    assert open(first).read() == "first-old"
    assert not os.path.exists(second)


def test_fileset_rollback_after_commit(tmp_path):
    path = str(tmp_path / "f")
    files.atomic_write(path, "before")
    fs = files.FileSet()
    fs.stage(path, "after")
    fs.commit()
    fs.rollback()
    assert open(path).read() == "before"


def test_read_text_default(tmp_path):
    assert files.read_text(str(tmp_path / "missing"), default="") == ""
    with pytest.raises(IOError):
        files.read_text(str(tmp_path / "missing"))
