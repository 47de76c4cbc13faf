"""PostgreSQL's SSLRequest upgrade against real peers: `otls probe postgres://` against a private
PostgreSQL 15 cluster (Debian's postgresql-15) with ssl = on and with ssl = off, and real clients
(psql with sslmode=verify-full, openssl s_client -starttls postgres, gnutls-cli
--starttls-proto=postgres) against otls's own server
role (otls_test_server --protocol postgres), which answers the StartupMessage inside TLS with
the ErrorResponse "otls test server: no database here".

Each cluster is made by initdb in the test's temporary directory, runs as user postgres on
127.0.0.1 at a high port with its Unix socket in its own directory, and is stopped by PID.
"""

import os
import shutil
import socket
import ssl
import struct
import subprocess
import unittest
from pathlib import Path

import harness as h

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SERVERNAME = "db.test"
LOCAL = h.LOOPBACK
NO_DATABASE = "otls test server: no database here"


def ssl_request_answer(port: int) -> bytes:
    """The one-byte answer of the server at `port` to an SSLRequest (ground truth without otls)."""
    with socket.create_connection((LOCAL, port), timeout=5) as s:
        s.sendall(struct.pack(">II", 8, 80877103))
        return s.recv(1)


class PostgresCluster(h.Daemon):
    """A private PostgreSQL 15 cluster initdb'd into `directory`, run as user postgres on
    127.0.0.1 at a free high port; ssl_on: with the test CA's leaf as its certificate."""

    def __init__(self, directory: Path, leaf, *, ssl_on: bool, name: str):
        self.dir = Path(directory)
        self.dir.mkdir(mode=0o711, parents=True)
        data = self.dir / "data"
        data.mkdir(mode=0o700)
        h.chown_tree(self.dir, "postgres")
        cp = h.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust",
                    "-U", "postgres", "--no-sync"], timeout=120)
        if cp.returncode != 0:
            raise h.HarnessError("initdb failed" + h.describe(cp))
        self.port = h.free_port()
        argv = [PG_BIN / "postgres", "-D", data, "-k", self.dir, "-c", f"listen_addresses={LOCAL}",
                "-p", str(self.port), "-c", "ssl=" + ("on" if ssl_on else "off"), "-c", "fsync=off"]
        if ssl_on:
            # PostgreSQL refuses a key others can read; it reads both files as user postgres
            cert, key = self.dir / "server.crt", self.dir / "server.key"
            shutil.copyfile(leaf.cert, cert)
            shutil.copyfile(leaf.key, key)
            os.chmod(key, 0o600)
            h.chown_tree(self.dir, "postgres")
            argv += ["-c", f"ssl_cert_file={cert}", "-c", f"ssl_key_file={key}"]
        super().__init__(argv, name=name, logdir=self.dir / "logs", user="postgres",
                         ready_port=(LOCAL, self.port), ready_check=lambda: ssl_request_answer(self.port) != b"",
                         ready_timeout=60)

    def url(self) -> str:
        return f"postgres://{LOCAL}:{self.port}"


def _require_tools(*tools):
    for t in tools:
        if not (Path(t).exists() or shutil.which(t)):
            raise unittest.SkipTest(f"{t} is not installed")


class PostgresServerProbe(h.InteropTestCase):
    """otls probe (client role) against a real PostgreSQL."""

    @classmethod
    def setUpClass(cls):
        _require_tools(PG_BIN / "initdb", PG_BIN / "postgres", "runuser")
        super().setUpClass()
        os.chmod(cls.workdir, 0o711)
        cls.ca = h.TestCA(cls.workdir / "ca")
        cls.leaf = cls.ca.leaf(SERVERNAME, "localhost", LOCAL)
        cls.tls = cls._cluster("tls", ssl_on=True)
        cls.plain = cls._cluster("plain", ssl_on=False)

    @classmethod
    def _cluster(cls, label, *, ssl_on):
        return cls.start_class_daemon(
            PostgresCluster(cls.workdir / label, cls.leaf, ssl_on=ssl_on, name=f"postgres-{label}"))

    def probe(self, url, *extra):
        return h.otls_probe(url, "--cafile", str(self.ca.pem), "--servername", SERVERNAME, *extra)

    def test_ground_truth(self):
        self.assertEqual(ssl_request_answer(self.tls.port), b"S")
        self.assertEqual(ssl_request_answer(self.plain.port), b"N")

    def test_probe_upgrades_and_verifies(self):
        r = self.probe(self.tls.url())
        d = r.describe()
        self.assertIsNotNone(r.json, d)
        j = r.json
        self.assertEqual(j["outcome"], "ok", d)
        self.assertEqual(r.rc, 0, d)
        self.assertEqual(j["protocol"], "postgres", d)
        self.assertEqual(j["mode"], "starttls", d)
        self.assertEqual(j["starttls"], {"offered": True, "accepted": True}, d)
        self.assertRegex(j["tls"]["version"], r"^TLSv1\.[23]$", d)
        self.assertTrue(j["certificate"]["trusted"], d)
        self.assertTrue(j["certificate"]["hostname_match"], d)
        self.assertEqual(j["certificate"]["reference_name"], SERVERNAME, d)
        self.assertNotIn("injected_bytes", j, d)

    def test_probe_wrong_name_fails_verification(self):
        r = h.otls_probe(self.tls.url(), "--cafile", str(self.ca.pem), "--servername", "other.example")
        self.assertIsNotNone(r.json, r.describe())
        self.assertEqual(r.json["outcome"], "certificate-host-mismatch", r.describe())
        self.assertEqual(r.rc, 6, r.describe())

    def test_probe_without_ssl_is_starttls_not_supported(self):
        r = self.probe(self.plain.url())
        d = r.describe()
        self.assertIsNotNone(r.json, d)
        self.assertEqual(r.json["outcome"], "starttls-not-supported", d)
        self.assertNotEqual(r.rc, 0, d)
        self.assertFalse(r.json["starttls"]["offered"], d)
        self.assertIn("ssl = off", r.json["error"]["detail"], d)
        self.assertIsNone(r.json["tls"], d)


    def test_stripped_offer_is_starttls_not_supported(self):
        # the STRIPTLS relay turns PostgreSQL's 'S' into 'N'; at level verify that is a failure
        meddler = self.start_daemon(h.OtlsTestMeddler(self.scratch_dir(), (LOCAL, self.tls.port), "postgres"))
        r = self.probe(meddler.url())
        d = r.describe()
        self.assertIsNotNone(r.json, d)
        self.assertEqual(r.json["outcome"], "starttls-not-supported", d)
        self.assertEqual(r.rc, 3, d)
        self.assertIs(r.json["starttls"]["offered"], False, d)
        self.assertIsNone(r.json["tls"], d)


class ClientsVsOtlsPostgresServer(h.InteropTestCase):
    """psql and openssl s_client against otls_test_server --protocol postgres."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ca = h.TestCA(cls.workdir / "ca")
        cls.other_ca = h.TestCA(cls.workdir / "other-ca")
        cls.leaf = cls.ca.leaf(SERVERNAME, "localhost", LOCAL)
        cls.server = cls.start_class_daemon(h.OtlsTestServer(cls.workdir / "srv", cls.leaf, protocol="postgres",
                                                             name="otls_test_server-postgres"))

    def psql(self, *, host=SERVERNAME, ca=None):
        if not shutil.which("psql"):
            self.skipTest("psql is not installed")
        # no ~/.pgpass, service file or GSSAPI attempt from the environment
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.workdir),
               "PGCONNECT_TIMEOUT": "20", "PGGSSENCMODE": "disable"}
        info = " ".join([f"host={host}", f"hostaddr={LOCAL}", f"port={self.server.port}", "user=alice",
                         "dbname=db", "sslmode=verify-full", f"sslrootcert={ca or self.ca.pem}"])
        return subprocess.run(["psql", "-w", "-X", "-c", "select 1", info], env=env, capture_output=True,
                              text=True, timeout=60, stdin=subprocess.DEVNULL)

    def test_psql_verify_full_reaches_the_startup_inside_tls(self):
        cp = self.psql()
        d = h.describe(cp)
        self.assertNotEqual(cp.returncode, 0, d)
        # the error can only come from inside TLS: verify-full accepted the chain and the name
        self.assertIn(NO_DATABASE, cp.stderr, d)

    def test_psql_verify_full_refuses_other_ca_and_other_name(self):
        cp = self.psql(ca=self.other_ca.pem)
        self.assertNotEqual(cp.returncode, 0, h.describe(cp))
        self.assertNotIn(NO_DATABASE, cp.stderr, h.describe(cp))
        self.assertRegex(cp.stderr, r"certificate verify failed", h.describe(cp))
        cp = self.psql(host="other.example")
        self.assertNotEqual(cp.returncode, 0, h.describe(cp))
        self.assertNotIn(NO_DATABASE, cp.stderr, h.describe(cp))
        self.assertRegex(cp.stderr, r"does not match host name", h.describe(cp))

    def test_openssl_s_client_starttls_postgres(self):
        cp = h.run(["openssl", "s_client", "-starttls", "postgres", "-connect", f"{LOCAL}:{self.server.port}",
                    "-CAfile", str(self.ca.pem), "-verify_return_error", "-verify_hostname", SERVERNAME],
                   input="", timeout=60)
        d = h.describe(cp)
        self.assertIn("Verify return code: 0 (ok)", cp.stdout, d)
        self.assertRegex(cp.stdout, r"New, TLSv1\.3, Cipher is TLS_", d)

    def test_gnutls_cli_starttls_postgres(self):
        if not shutil.which("gnutls-cli"):
            self.skipTest("Debian package gnutls-bin is not installed")
        cp = h.run(["gnutls-cli", "--starttls-proto=postgres", "--x509cafile", str(self.ca.pem), "--port",
                    str(self.server.port), "--verify-hostname", SERVERNAME, LOCAL], input="", timeout=60)
        d = h.describe(cp)
        self.assertIn("Status: The certificate is trusted.", cp.stdout, d)
        self.assertIn("Handshake was completed", cp.stdout, d)
        self.assertEqual(cp.returncode, 0, d)

    def test_otls_probe_against_otls_server(self):
        r = h.otls_probe(f"postgres://{LOCAL}:{self.server.port}", "--cafile", str(self.ca.pem),
                         "--servername", SERVERNAME)
        self.assertIsNotNone(r.json, r.describe())
        self.assertEqual(r.json["outcome"], "ok", r.describe())

    def test_pipelined_bytes_are_never_read_inside_tls(self):
        # CVE-2021-23214: bytes sent in plaintext behind the SSLRequest must be discarded. They are
        # a packet the server would close on (an unknown request code); if it read them inside
        # TLS, our own StartupMessage would get no ErrorResponse.
        bogus = struct.pack(">II", 8, 12345678)
        body = struct.pack(">I", 196608) + b"user\x00alice\x00database\x00db\x00\x00"
        startup = struct.pack(">I", len(body) + 4) + body
        ctx = ssl.create_default_context(cafile=str(self.ca.pem))
        with socket.create_connection((LOCAL, self.server.port), timeout=20) as raw:
            raw.sendall(struct.pack(">II", 8, 80877103) + bogus)
            self.assertEqual(raw.recv(1), b"S")
            with ctx.wrap_socket(raw, server_hostname=SERVERNAME) as tls:
                tls.sendall(startup)
                reply = b""
                for _ in range(64):  # bounded: the ErrorResponse is one short message
                    chunk = tls.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
                    if NO_DATABASE.encode() in reply:
                        break
        self.assertTrue(reply.startswith(b"E"), reply)
        self.assertIn(NO_DATABASE.encode(), reply)
