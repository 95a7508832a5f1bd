"""TLS settings of the Open vSwitch daemons: protocols and ciphers.

ovsdb-server (OVSDB managers, ``ssl`` and ``pssl``) and ovs-vswitchd
(OpenFlow controllers) take ``--ssl-protocols`` and ``--ssl-ciphers``; the
boot script hands them over through ovs-ctl's ``--ovsdb-server-options`` and
``--ovs-vswitchd-options``, as XCP-ng's own start-up does.  The values come
from the host's settings (``SSL_PROTOCOLS``, ``SSL_CIPHERS``).

The defaults: TLS 1.2 (OpenSSL keeps TLS 1.3 on as well: these daemons
name no TLS 1.3 in their protocol list and never turn it off), and only
forward-secret AEAD ciphers, all of which Xen Orchestra's client (OpenSSL
``DEFAULT:!DH``) offers.  A value the daemons would not take (a protocol
they do not know, a cipher list that selects no cipher, words ovs-ctl would
split) is refused with the reason and the default used instead: the daemons
would otherwise log an error and run with OpenSSL's own, weaker choice.
"""

import collections
import re
import ssl

from ..system import hostconfig
from ..errors import InvalidValue

# The SSL files a daemon is given (host paths, or real ones once under the root):
# key, certificate, CA, and whether the CA is learnt from the first peer.
SslFiles = collections.namedtuple("SslFiles", "private_key certificate ca_cert bootstrap")

# What ovsdb-server and ovs-vswitchd recognise in --ssl-protocols.
KNOWN_PROTOCOLS = ("TLSv1", "TLSv1.1", "TLSv1.2")
DEFAULT_PROTOCOLS = "TLSv1.2"
DEFAULT_CIPHERS = ":".join((
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256"))

# ovs-ctl splits its daemon options on white space: one word, OpenSSL's syntax.
_CIPHER_TEXT = re.compile(r"^[A-Za-z0-9+:!@=_.,-]{1,1024}$")


def check_protocols(value):
    """``value`` (comma-separated) when the daemons know every protocol in it."""
    words = value.split(",")
    unknown = [w for w in words if w not in KNOWN_PROTOCOLS]
    if not value or unknown:
        raise InvalidValue("%s %r: not a comma-separated list of %s"
                           % (hostconfig.SYSCONFIG_SSL_PROTOCOLS, value,
                              ", ".join(KNOWN_PROTOCOLS)),
                           params=[hostconfig.SYSCONFIG_SSL_PROTOCOLS, value])
    return value


def check_ciphers(value):
    """``value`` when it is one OpenSSL cipher list that selects at least one cipher."""
    why = None
    if not _CIPHER_TEXT.match(value):
        why = "not one OpenSSL cipher list (letters, digits and +:!@=_.,- only)"
    else:
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).set_ciphers(value)
        except ssl.SSLError:
            why = "selects no cipher this host's OpenSSL has"
    if why is not None:
        raise InvalidValue("%s %r: %s" % (hostconfig.SYSCONFIG_SSL_CIPHERS, value, why),
                           params=[hostconfig.SYSCONFIG_SSL_CIPHERS, value])
    return value


def settings(sysconfig):
    """(protocols, ciphers, refused): the host's values, or the defaults for bad ones."""
    refused = []
    chosen = []
    for key, default, check in ((hostconfig.SYSCONFIG_SSL_PROTOCOLS, DEFAULT_PROTOCOLS,
                                 check_protocols),
                                (hostconfig.SYSCONFIG_SSL_CIPHERS, DEFAULT_CIPHERS,
                                 check_ciphers)):
        value = sysconfig.get(key, "")
        if value == "":
            chosen.append(default)
            continue
        try:
            chosen.append(check(value))
        except InvalidValue as exc:
            refused.append(exc.message + "; using the default " + default)
            chosen.append(default)
    return chosen[0], chosen[1], refused


def daemon_options(protocols, ciphers):
    """The daemons' own options for these settings."""
    return ["--ssl-protocols=" + protocols, "--ssl-ciphers=" + ciphers]
