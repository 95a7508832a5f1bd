"""Writing files so that a crash or a failure never leaves half of one.

A single file is replaced atomically (temporary file in the same directory,
fsync, rename, fsync of the directory).  :class:`FileSet` replaces several
files together: either all new versions are in place or, on any failure, all
previous versions (or absences) come back.
"""

import errno
import os
import tempfile

from ..log import log


_MUST_EXIST = object()


def read_text(path, default=_MUST_EXIST):
    """The file's text; ``default`` (when given) if it does not exist."""
    try:
        with open(path) as handle:
            return handle.read()
    except OSError as exc:
        if exc.errno == errno.ENOENT and default is not _MUST_EXIST:
            return default
        raise


def _fsync_dir(directory):
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path, text, mode=0o644):
    """Replace ``path`` with ``text`` in one step."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def replace_if_changed(path, text, mode=0o644):
    """Atomically write ``text`` unless ``path`` already holds it; True if written."""
    if _current(path) == text:
        return False
    atomic_write(path, text, mode)
    return True


def remove(path):
    """Remove ``path`` if it exists; True if it did."""
    try:
        os.unlink(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return False
        raise
    return True


class FileSet:
    """Files changed together or not at all.

    ``stage(path, text)`` (``text`` None removes the file) records what is
    wanted; ``commit()`` puts every file in place, restoring the earlier
    versions if any step fails.  ``rollback()`` after a successful commit
    undoes it, for when a later step of the caller fails.
    """

    def __init__(self):
        self.wanted = []   # [(path, text or None)]
        self._previous = []   # [(path, text or None)] of what commit replaced

    def stage(self, path, text):
        self.wanted.append((path, text))

    def commit(self):
        self._previous = []
        try:
            for path, text in self.wanted:
                before = _current(path)
                if before == text:
                    continue
                self._previous.append((path, before))
                if text is None:
                    remove(path)
                else:
                    atomic_write(path, text)
        except BaseException:
            self.rollback()
            raise

    def rollback(self):
        for path, text in reversed(self._previous):
            try:
                if text is None:
                    remove(path)
                else:
                    atomic_write(path, text)
            except OSError as exc:
                log.error("cannot restore %s: %s", path, exc)
        self._previous = []


def _current(path):
    return read_text(path, default=None)
