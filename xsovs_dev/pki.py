"""Certificates made with the ``openssl`` command at run time, for TLS tests and the demo.

A :class:`CA` signs leaf certificates; :func:`self_signed` makes the kind
of certificate XAPI makes for a host (``/etc/xensource/xapi-ssl.pem``: key
and certificate in one file).  Nothing here is ever kept: every run makes
its own keys in its own directory.
"""

import os
import shutil
import subprocess

DAYS = "2"
KEY = ["-newkey", "rsa:2048", "-nodes"]


def unavailable_reason():
    """Why certificates cannot be made here, or None."""
    return None if shutil.which("openssl") else "openssl is not installed (run make setup)"


def _openssl(args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, timeout=60)


def _read(path):
    with open(path) as handle:
        return handle.read()


class Leaf:
    """A key and a certificate (``pem``: both in one file, as XAPI keeps its own)."""

    def __init__(self, key, cert):
        self.key, self.cert = key, cert
        self.pem = os.path.splitext(cert)[0] + "-key-and-cert.pem"
        with open(self.pem, "w") as handle:
            handle.write(_read(key) + _read(cert))

    def chain_with(self, ca):
        """The certificate followed by its CA's: what a peer sends to be bootstrapped."""
        path = os.path.splitext(self.cert)[0] + "-chain.pem"
        with open(path, "w") as handle:
            handle.write(_read(self.cert) + _read(ca.cert))
        return path


class CA:
    """A self-signed certificate authority in ``directory``."""

    def __init__(self, directory, name):
        self.directory = os.path.abspath(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.name = name
        self.key = os.path.join(self.directory, name + "-ca.key")
        self.cert = os.path.join(self.directory, name + "-ca.pem")
        _openssl(["req", "-x509"] + KEY + ["-keyout", self.key, "-out", self.cert, "-days", DAYS,
                  "-subj", "/CN=%s CA" % name,
                  "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign"], self.directory)

    def issue(self, name):
        """A leaf certificate for ``name`` signed by this CA."""
        key = os.path.join(self.directory, name + ".key")
        csr = os.path.join(self.directory, name + ".csr")
        cert = os.path.join(self.directory, name + ".pem")
        _openssl(["req"] + KEY + ["-keyout", key, "-out", csr, "-subj", "/CN=" + name],
                 self.directory)
        _openssl(["x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
                  "-CAcreateserial", "-out", cert, "-days", DAYS], self.directory)
        return Leaf(key, cert)


def self_signed(directory, name):
    """A self-signed leaf, as XAPI makes for a host (and as a stranger would present)."""
    directory = os.path.abspath(directory)
    os.makedirs(directory, exist_ok=True)
    key = os.path.join(directory, name + ".key")
    cert = os.path.join(directory, name + ".pem")
    _openssl(["req", "-x509"] + KEY + ["-keyout", key, "-out", cert, "-days", DAYS,
              "-subj", "/CN=" + name], directory)
    return Leaf(key, cert)
