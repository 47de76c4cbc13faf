"""MySQL/MariaDB's SSLRequest upgrade against real peers: `otls probe mysql://` against a private
MariaDB 10.11 (Debian's mariadb-server) with TLS, with --skip-ssl, and behind the STRIPTLS relay.

Also openssl s_client -starttls mysql against otls's own MySQL server role. A MySQL client sends
its TLS ClientHello right behind the SSLRequest without waiting for an answer, so both often
arrive in one read: the server role declares leftover_starts_tls(), and the driver hands those
bytes to the TLS handshake instead of discarding them as pipelined plaintext.

Each MariaDB is made by mariadb-install-db in the test's temporary directory, listens on
127.0.0.1 at a high port (its socket and PID file in its own directory), drops to user mysql,
and is stopped by PID.
"""

import os
import shutil
import socket
import unittest
from pathlib import Path

import harness as h

SERVERNAME = "db.test"
LOCAL = h.LOOPBACK
CLIENT_SSL = 0x0800


def read_handshake(port: int) -> tuple[str, int]:
    """(server version, capability flags) of the initial handshake (ground truth without otls)."""
    with socket.create_connection((LOCAL, port), timeout=5) as s:
        data = b""
        for _ in range(64):  # bounded: the packet is ~100 bytes
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
            if len(data) >= 4 and len(data) >= 4 + int.from_bytes(data[:3], "little"):
                break
    payload = data[4:4 + int.from_bytes(data[:3], "little")]
    if not payload or payload[0] != 10:
        raise h.ProtocolError(f"not a MySQL handshake: {data[:40]!r}")
    nul = payload.index(b"\x00", 1)
    version = payload[1:nul].decode("latin-1")
    at = nul + 1 + 4 + 8 + 1
    caps = int.from_bytes(payload[at:at + 2], "little") | (int.from_bytes(payload[at + 5:at + 7], "little") << 16)
    return version, caps


class MariaDB(h.Daemon):
    """A private MariaDB: mariadb-install-db into `directory`, mariadbd on 127.0.0.1."""

    def __init__(self, directory: Path, leaf, *, tls: bool, name: str):
        self.dir = Path(directory)
        self.dir.mkdir(mode=0o711, parents=True)
        data, run_dir = self.dir / "data", self.dir / "run"
        data.mkdir(mode=0o700)
        run_dir.mkdir(mode=0o700)
        h.chown_tree(self.dir, "mysql")
        cp = h.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=mysql",
                    "--auth-root-authentication-method=normal", "--skip-test-db"], timeout=180)
        if cp.returncode != 0:
            raise h.HarnessError("mariadb-install-db failed" + h.describe(cp))
        self.port = h.free_port()
        argv = ["mariadbd", "--no-defaults", f"--datadir={data}", f"--socket={run_dir / 'sock'}",
                f"--pid-file={run_dir / 'pid'}", f"--port={self.port}", f"--bind-address={LOCAL}",
                "--user=mysql", "--innodb-buffer-pool-size=16M", "--skip-name-resolve"]
        if tls:
            # mariadbd reads them after dropping to user mysql
            cert, key = run_dir / "server.crt", run_dir / "server.key"
            shutil.copyfile(leaf.cert, cert)
            shutil.copyfile(leaf.key, key)
            os.chmod(key, 0o600)
            h.chown_tree(run_dir, "mysql")
            argv += [f"--ssl-cert={cert}", f"--ssl-key={key}"]
        else:
            argv.append("--skip-ssl")
        super().__init__(argv, name=name, logdir=self.dir, ready_port=(LOCAL, self.port),
                         ready_check=lambda: bool(read_handshake(self.port)[0]), ready_timeout=90)

    def url(self) -> str:
        return f"mysql://{LOCAL}:{self.port}"


class MariaDBProbe(h.InteropTestCase):
    """otls probe (client role) against a real MariaDB."""

    @classmethod
    def setUpClass(cls):
        for tool in ("mariadbd", "mariadb-install-db"):
            if not shutil.which(tool):
                raise unittest.SkipTest(f"{tool} is not installed")
        super().setUpClass()
        cls.ca = h.TestCA(cls.workdir / "ca")
        cls.leaf = cls.ca.leaf(SERVERNAME, "localhost", LOCAL)
        cls.tls = cls._server("tls", tls=True)
        cls.plain = cls._server("plain", tls=False)

    @classmethod
    def _server(cls, label, *, tls):
        return cls.start_class_daemon(MariaDB(cls.workdir / label, cls.leaf, tls=tls, name=f"mariadb-{label}"))

    def probe(self, url, *extra, servername=SERVERNAME):
        return h.otls_probe(url, "--cafile", str(self.ca.pem), "--servername", servername, *extra)

    def test_ground_truth(self):
        self.assertTrue(read_handshake(self.tls.port)[1] & CLIENT_SSL)
        self.assertFalse(read_handshake(self.plain.port)[1] & CLIENT_SSL)

    def test_probe_upgrades_and_reports_the_version(self):
        version, _ = read_handshake(self.tls.port)
        r = self.probe(self.tls.url())
        d = r.describe()
        self.assertIsNotNone(r.json, d)
        j = r.json
        self.assertEqual(j["outcome"], "ok", d)
        self.assertEqual(r.rc, 0, d)
        self.assertEqual(j["protocol"], "mysql", d)
        self.assertEqual(j["banner"], version, d)
        self.assertIn("MariaDB", j["banner"], d)
        self.assertEqual(j["starttls"], {"offered": True, "accepted": True}, d)
        self.assertIn("SSL", j["capabilities"]["before_tls"], d)
        self.assertEqual(j["capabilities"]["after_tls"], [], d)
        self.assertRegex(j["tls"]["version"], r"^TLSv1\.[23]$", d)
        self.assertTrue(j["certificate"]["trusted"], d)
        self.assertTrue(j["certificate"]["hostname_match"], d)
        self.assertNotIn("injected_bytes", j, d)

    def test_probe_wrong_name_fails_verification(self):
        r = self.probe(self.tls.url(), servername="other.example")
        self.assertIsNotNone(r.json, r.describe())
        self.assertEqual(r.json["outcome"], "certificate-host-mismatch", r.describe())
        self.assertEqual(r.rc, 6, r.describe())

    def test_probe_skip_ssl_is_starttls_not_supported(self):
        r = self.probe(self.plain.url())
        d = r.describe()
        self.assertIsNotNone(r.json, d)
        self.assertEqual(r.json["outcome"], "starttls-not-supported", d)
        self.assertNotEqual(r.rc, 0, d)
        self.assertIn("MariaDB", r.json["banner"], d)
        self.assertFalse(r.json["starttls"]["offered"], d)
        self.assertNotIn("SSL", r.json["capabilities"]["before_tls"], d)
        self.assertIsNone(r.json["tls"], d)

    def test_stripped_offer_is_starttls_not_supported(self):
        meddler = self.start_daemon(h.OtlsTestMeddler(self.scratch_dir(), (LOCAL, self.tls.port), "mysql"))
        r = self.probe(meddler.url())
        d = r.describe()
        self.assertIsNotNone(r.json, d)
        self.assertEqual(r.json["outcome"], "starttls-not-supported", d)
        self.assertEqual(r.rc, 3, d)
        self.assertIs(r.json["starttls"]["offered"], False, d)
        self.assertIsNone(r.json["tls"], d)


class ClientsVsOtlsMysqlServer(h.InteropTestCase):
    """openssl s_client -starttls mysql against otls_test_server --protocol mysql, repeatedly:
    the ClientHello usually arrives in the same read as the SSLRequest."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ca = h.TestCA(cls.workdir / "ca")
        cls.leaf = cls.ca.leaf(SERVERNAME, "localhost", LOCAL)
        cls.server = cls.start_class_daemon(h.OtlsTestServer(cls.workdir / "srv", cls.leaf, protocol="mysql",
                                                             name="otls_test_server-mysql"))

    def test_openssl_s_client_starttls_mysql(self):
        for attempt in range(5):
            cp = h.run(["openssl", "s_client", "-starttls", "mysql", "-connect", f"{LOCAL}:{self.server.port}",
                        "-CAfile", str(self.ca.pem), "-verify_return_error", "-verify_hostname", SERVERNAME],
                       input="", timeout=60)
            self.assertRegex(cp.stdout, r"Verify return code: 0 \(ok\)", f"attempt {attempt}" + h.describe(cp))

    def test_otls_probe_against_its_own_server_role(self):
        r = h.otls_probe(f"mysql://{LOCAL}:{self.server.port}", "--cafile", self.ca.pem, "--servername", SERVERNAME)
        self.assertEqual((r.rc, r.json.get("outcome") if r.json else None), (0, "ok"), r.describe())
