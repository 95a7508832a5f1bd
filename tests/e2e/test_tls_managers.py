"""Both kinds of OVSDB manager over real TLS, on a host booted as a real one is.

Certificates come from ``openssl`` at run time: the pool CA an SDN controller
installs, Xen Orchestra's client certificate signed by it, a stranger's CA and
certificate, a self-signed one, and the host's own (XAPI's xapi-ssl.pem).
ovsdb-server is started by ``openvswitch-boot`` through the real ``ovs-ctl``,
which takes remotes, key, certificate and CA from the database: what the
plugin sets there is exactly what the daemon does.
"""

import ssl
import time

import pytest

from xsovs_common import paths
from xsovs_common.ovs import tls
from xsovs_dev import ovs as ovsmod
from xsovs_dev import pki, sdn
from xsovs_dev.simhost import SimHost
from xsovs_dev.skips import need
from xsovs_dev.xapisim import PoolBuilder, Simulator, client

PLUGIN = "openvswitch-cfg-update"
# What a refused certificate looks like; a closed port (ConnectionRefusedError) is not it.
REFUSED = (ssl.SSLError, sdn.RpcError, ConnectionResetError, BrokenPipeError)


class Pool:
    """One simulated XAPI pool with one booted host, and certificates."""

    def __init__(self, tmp_path):
        builder = PoolBuilder().host("host1", address="127.0.0.1")
        builder.physical_pif("eth0", "xenbr0", management=True, ip="192.0.2.10/24")
        self.sim = Simulator(builder.build())
        self.host = SimHost(str(tmp_path / "host1"), builder.host_uuid("host1"))
        self.x = None

    def start(self, tmp_path):
        self.sim.start()
        self.host.create()
        certs = str(tmp_path / "certs")
        self.pool_ca = pki.CA(certs, "sdn-controller")
        self.xo = self.pool_ca.issue("xo-server")
        self.stranger = pki.CA(certs, "stranger").issue("xo-server-elsewhere")
        self.self_signed = pki.self_signed(certs, "self-signed")
        self.controller_ca = pki.CA(certs, "controller")
        self.controller_leaf = self.controller_ca.issue("controller")
        xapi_pem = pki.self_signed(certs, "host1")
        with open(xapi_pem.pem) as handle:
            self.host.fake.write(paths.XAPI_SSL_PEM, handle.read(), mode=0o600)
        self.host.boot("start")
        self.sim.host_env[self.host.uuid] = {"XSOVS_ROOT": self.host.fake.path,
                                             "OVS_RUNDIR": self.host.rundir}
        self.session = client.session(self.sim.url)
        self.session.xenapi.login_with_password("root", "")
        self.x = self.session.xenapi
        self.host_ref = self.x.host.get_all()[0]

    def update(self):
        return self.x.host.call_plugin(self.host_ref, PLUGIN, "update", {})

    def xo_client(self, leaf, **tls_options):
        return sdn.XoClient("127.0.0.1", leaf.key, leaf.cert, self.pool_ca.cert,
                            netns=self.host.ns.name, **tls_options)

    def close(self):
        try:
            if self.x is not None:
                self.x.session.logout()
        finally:
            self.sim.stop()
            gone = self.host.destroy()
        assert gone, "processes left behind"


@pytest.fixture
def pool(netns_ok, tmp_path):
    need(ovsmod.available())
    need(pki.unavailable_reason())
    the_pool = Pool(tmp_path)
    try:
        the_pool.start(tmp_path)
        yield the_pool
    finally:
        the_pool.close()


def connects(client, within=10.0):
    """A session that answers list_dbs, trying until ``within`` seconds have gone."""
    deadline = time.time() + within
    while True:
        try:
            return client.connect(timeout=5)
        except REFUSED:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def refused(client):
    with pytest.raises(REFUSED):
        client.connect(timeout=5).close()
    return True


def test_xen_orchestra_gets_a_session_with_a_pool_ca_certificate(pool):
    pool.x.SDN_controller.introduce("pssl", "", "0")
    result = pool.update()
    ca = pool.host.fake.file(paths.SDN_CONTROLLER_CA)
    assert "Successfully set controller to pssl:6640" in result
    assert "SDN controller CA file %s is missing" % ca in result
    assert pool.host.vsctl("get-manager").strip() == "pssl:6640"
    # No CA in the pool yet: nobody gets in, and no CA file appears by itself.
    assert refused(pool.xo_client(pool.xo))
    assert not pool.host.fake.exists(paths.SDN_CONTROLLER_CA)

    # Xen Orchestra installs its CA in the pool; XAPI copies it to the host.
    with open(pool.pool_ca.cert) as handle:
        pool.host.fake.write(paths.SDN_CONTROLLER_CA, handle.read())
    session = connects(pool.xo_client(pool.xo))
    try:
        assert "Open_vSwitch" in session.call("list_dbs", [])
        (rows,) = session.transact({"op": "select", "table": "Manager",
                                    "columns": ["target"], "where": []})
        assert rows["rows"] == [{"target": "pssl:6640"}]
    finally:
        session.close()
    # Any other certificate is refused.
    assert refused(pool.xo_client(pool.stranger))
    assert refused(pool.xo_client(pool.self_signed))
    assert pool.update() == "No change to configuration"
    again = connects(pool.xo_client(pool.xo))
    assert "Open_vSwitch" in again.call("list_dbs", [])
    again.close()


def test_an_active_controller_is_bootstrapped_and_keeps_a_session(pool):
    chain = pool.controller_leaf.chain_with(pool.controller_ca)
    with sdn.ActiveController(chain, pool.controller_leaf.key, port=6632,
                              netns=pool.host.ns.name) as controller:
        pool.x.SDN_controller.introduce("ssl", "127.0.0.1", "6632")
        assert "Successfully set controller to ssl:127.0.0.1:6632" in pool.update()
        assert "Bootstrap: true" in pool.host.vsctl("get-ssl")
        session, databases = controller.session(timeout=30)
        try:
            assert "Open_vSwitch" in databases
            # The host learnt the controller's CA, trusted on first use.
            with open(pool.controller_ca.cert) as handle:
                assert pool.host.fake.read(paths.VSWITCHD_CACERT) == handle.read()
            (rows,) = session.transact({"op": "select", "table": "Open_vSwitch",
                                        "columns": ["manager_options"], "where": []})
            assert len(rows["rows"]) == 1
            assert "Open_vSwitch" in session.call("list_dbs", [])   # still there
        finally:
            session.close()
        assert pool.update() == "No change to configuration"


def test_the_daemons_tls_settings_come_from_the_boot(pool):
    pool.x.SDN_controller.introduce("pssl", "", "0")
    pool.update()
    with open(pool.pool_ca.cert) as handle:
        pool.host.fake.write(paths.SDN_CONTROLLER_CA, handle.read())
    # Xen Orchestra's offer, held to TLS 1.2: one of the default ciphers is chosen.
    session = connects(pool.xo_client(pool.xo, max_version=ssl.TLSVersion.TLSv1_2))
    try:
        assert session.sock.version() == "TLSv1.2"
        assert session.sock.cipher()[0] in tls.DEFAULT_CIPHERS.split(":")
    finally:
        session.close()
    # Ciphers without forward secrecy, which OpenSSL itself would take: refused.
    assert refused(pool.xo_client(pool.xo, ciphers="AES128-GCM-SHA256:AES256-SHA",
                                  max_version=ssl.TLSVersion.TLSv1_2))


def test_xen_orchestras_openflow_channel_uses_the_same_certificates(pool):
    """With of-method "channel", Xen Orchestra also speaks OpenFlow to the bridges on 6653."""
    pool.host.vsctl("add-br", "xenbr0", "--", "set", "Bridge", "xenbr0", "datapath_type=netdev")
    pool.x.SDN_controller.introduce("pssl", "", "0")
    assert "firewall opened for tcp/6653" in pool.update()     # and xs-network-uuids set
    (network,) = [r["uuid"] for r in pool.x.network.get_all_records().values()
                  if r["bridge"] == "xenbr0"]
    with open(pool.pool_ca.cert) as handle:
        pool.host.fake.write(paths.SDN_CONTROLLER_CA, handle.read())
    connects(pool.xo_client(pool.xo)).close()
    pool.xo_client(pool.xo).set_bridge_controller([network])
    deadline = time.time() + 10
    while True:
        try:
            version, kind = pool.xo_client(pool.xo).openflow_hello()
            break
        except (ConnectionRefusedError,) + REFUSED:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    assert (version, kind) == (0x02, sdn.OPENFLOW_HELLO)       # OpenFlow 1.1 HELLO
    with pytest.raises(REFUSED):
        pool.xo_client(pool.stranger).openflow_hello()
