"""Build the xsovs RPM: ``make rpm`` runs this and prints the RPM's path.

The source tarball holds the files git tracks, as they are in the working
tree (so an uncommitted edit is built too, and nothing untracked sneaks in);
rpmbuild then runs in a private ``_topdir`` (default ``build/rpm``) so the
machine's own ``~/rpmbuild`` is never touched.
"""

import glob
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = "xsovs.spec"


def spec_field(repo, field):
    with open(os.path.join(repo, SPEC)) as handle:
        for line in handle:
            match = re.match(r"^%s:\s*(\S+)" % field, line)
            if match:
                return match.group(1)
    raise SystemExit("%s has no %s: line" % (SPEC, field))


def tracked_files(repo):
    """The working-tree paths git tracks (deleted ones left out)."""
    listing = subprocess.run(["git", "-C", repo, "ls-files", "-z"], check=True,
                             stdout=subprocess.PIPE).stdout.decode("utf-8")
    return [name for name in listing.split("\0")
            if name and os.path.lexists(os.path.join(repo, name))]


def source_tarball(repo, directory, extra=None):
    """``NAME-VERSION.tar.gz`` of the tracked files, under ``NAME-VERSION/``.

    ``extra`` ({path: text}) adds files the tree does not have (tests build
    the package as a later tree would be).
    """
    top = "%s-%s" % (spec_field(repo, "Name"), spec_field(repo, "Version"))
    path = os.path.join(directory, top + ".tar.gz")
    with tarfile.open(path, "w:gz") as tar:
        for name in tracked_files(repo):
            info = tar.gettarinfo(os.path.join(repo, name), arcname=top + "/" + name)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if info.isreg():
                with open(os.path.join(repo, name), "rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
        for name, text in sorted((extra or {}).items()):
            data = text.encode("utf-8")
            info = tarfile.TarInfo(top + "/" + name)
            info.size, info.mode, info.uname, info.gname = len(data), 0o644, "root", "root"
            tar.addfile(info, io.BytesIO(data))
    return path


def build(repo=REPO, topdir=None, extra=None, defines=None):
    """Build the binary RPM; return its path.

    ``extra`` files join the tree (see source_tarball); ``defines`` are rpm
    macros for rpmbuild (``{"dist": ".2"}`` makes a later release).
    """
    topdir = os.path.abspath(topdir or os.path.join(repo, "build", "rpm"))
    if os.path.exists(topdir):
        shutil.rmtree(topdir)
    sources = os.path.join(topdir, "SOURCES")
    os.makedirs(sources)
    source_tarball(repo, sources, extra)
    macros = []
    for name, value in sorted((defines or {}).items()):
        macros += ["--define", "%s %s" % (name, value)]
    subprocess.run(["rpmbuild", "-bb", "--define", "_topdir " + topdir] + macros +
                   [os.path.join(repo, SPEC)],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    rpms = glob.glob(os.path.join(topdir, "RPMS", "noarch", "*.rpm"))
    if len(rpms) != 1:
        raise SystemExit("rpmbuild made %d noarch RPMs in %s, expected one" % (len(rpms), topdir))
    return rpms[0]


def main():
    try:
        print(build())
    except subprocess.CalledProcessError as exc:
        sys.stderr.write(exc.stdout.decode("utf-8", "replace") if exc.stdout else "")
        sys.stderr.write("%s failed with exit status %d\n" % (exc.cmd[0], exc.returncode))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
