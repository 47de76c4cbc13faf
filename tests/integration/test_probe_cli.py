"""`otls probe` against scripted misbehaving SMTP servers on loopback.

Every case must end with a named outcome and its documented exit code within a bounded time:
no hang, no crash (RFC 5321 framing, DESIGN.md rule 5).
"""
import json
import os
import socket
import subprocess
import threading
import time
import unittest

OTLS = os.environ.get("OTLS_BIN")
TIMEOUT_S = 1.0  # per-step limit handed to otls
BOUND_S = 20.0   # the whole probe must end well within this


class ScriptedServer:
    """Accepts one connection on 127.0.0.1 and runs `script(conn)` on it."""

    def __init__(self, script):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.sock.settimeout(BOUND_S)
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self.thread = threading.Thread(target=self._run, args=(script,), daemon=True)
        self.thread.start()

    def _run(self, script):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(BOUND_S)
            try:
                script(self, conn)
            except OSError:
                pass

    def read_line(self, conn):
        data = b""
        while not data.endswith(b"\n") and len(data) < 4096:
            chunk = conn.recv(1)
            if not chunk:
                break
            data += chunk
        self.received += data
        return data

    def drain(self, conn):
        """Read until the client closes (bounded by the socket timeout)."""
        while True:
            chunk = conn.recv(4096)
            if not chunk:
                return
            self.received += chunk

    def close(self):
        self.thread.join(BOUND_S)
        self.sock.close()


def probe(port, *extra):
    started = time.monotonic()
    proc = subprocess.run(
        [OTLS, "probe", f"smtp://127.0.0.1:{port}", "--json", "--timeout", str(TIMEOUT_S), *extra],
        capture_output=True, text=True, timeout=BOUND_S)
    elapsed = time.monotonic() - started
    report = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc, report, elapsed


@unittest.skipUnless(OTLS, "OTLS_BIN is not set (ctest sets it)")
class MisbehavingServers(unittest.TestCase):

    def run_case(self, script, exit_code, outcome, *extra):
        server = ScriptedServer(script)
        try:
            proc, report, elapsed = probe(server.port, *extra)
        finally:
            server.close()
        self.assertEqual(proc.returncode, exit_code, proc.stdout + proc.stderr)
        self.assertIsNotNone(report, proc.stderr)
        self.assertEqual(report["outcome"], outcome)
        self.assertLess(elapsed, BOUND_S)
        if outcome != "ok":
            self.assertTrue(report["error"]["message"])
        return report, server

    def test_100k_line(self):
        def script(s, conn):
            conn.sendall(b"220 " + b"x" * 100_000 + b"\r\n")
            s.drain(conn)
        report, _ = self.run_case(script, 7, "protocol-error")
        self.assertIn("length", report["error"]["message"])

    def test_greeting_never_finishes(self):
        def script(s, conn):
            conn.sendall(b"220-still greeting\r\n")
            s.drain(conn)  # never send the final line
        _, _ = self.run_case(script, 8, "timeout")

    def test_trickling_greeting_still_times_out(self):
        def script(s, conn):
            # One byte every 0.2 s: each read succeeds, the reply never completes in time.
            for byte in b"220-" + b"x" * 200:
                conn.sendall(bytes([byte]))
                time.sleep(0.2)
        _, _ = self.run_case(script, 8, "timeout")

    def test_silent_server(self):
        self.run_case(lambda s, conn: s.drain(conn), 8, "timeout")

    def test_garbage(self):
        def script(s, conn):
            conn.sendall(bytes(range(256)) * 4)
            s.drain(conn)
        self.run_case(script, 7, "protocol-error")

    def test_close_mid_reply(self):
        def script(s, conn):
            conn.sendall(b"220 hi\r\n")
            s.read_line(conn)
            conn.sendall(b"250-mx.test\r\n250-PIPEL")
        report, _ = self.run_case(script, 7, "protocol-error")
        self.assertIn("middle of a reply", report["error"]["detail"])

    def test_421_greeting(self):
        def script(s, conn):
            conn.sendall(b"421 4.3.2 Service shutting down\r\n")
            s.read_line(conn)
        report, _ = self.run_case(script, 7, "service-unavailable")
        self.assertEqual(report["error"]["peer_text"], ["421 4.3.2 Service shutting down"])

    def test_starttls_refused(self):
        def script(s, conn):
            conn.sendall(b"220 hi\r\n")
            s.read_line(conn)
            conn.sendall(b"250-mx.test\r\n250 STARTTLS\r\n")
            s.read_line(conn)
            conn.sendall(b"454 4.7.0 TLS not available due to local problem\r\n")
            s.read_line(conn)
            conn.sendall(b"221 bye\r\n")
        report, server = self.run_case(script, 4, "starttls-rejected")
        self.assertTrue(report["starttls"]["offered"])
        self.assertFalse(report["starttls"]["accepted"])
        self.assertIn(b"QUIT\r\n", server.received)

    def test_response_injection(self):
        def script(s, conn):
            conn.sendall(b"220 hi\r\n")
            s.read_line(conn)
            conn.sendall(b"250-mx.test\r\n250 STARTTLS\r\n")
            s.read_line(conn)
            conn.sendall(b"220 go ahead\r\n250 injected\r\n")
            s.drain(conn)
        report, server = self.run_case(script, 9, "response-injection")
        self.assertEqual(report["injected_bytes"], len(b"250 injected\r\n"))
        self.assertNotIn(b"\x16\x03", server.received)  # no ClientHello was sent

    def test_no_starttls_verify_and_may(self):
        def script(s, conn):
            conn.sendall(b"220 hi\r\n")
            s.read_line(conn)
            conn.sendall(b"250-mx.test\r\n250 PIPELINING\r\n")
            s.read_line(conn)
            conn.sendall(b"221 bye\r\n")
        self.run_case(script, 3, "starttls-not-supported")
        report, _ = self.run_case(script, 0, "ok", "--level", "may")
        self.assertFalse(report["starttls"]["offered"])
        self.assertTrue(any("PLAINTEXT" in w for w in report["warnings"]))

    def test_hostile_banner_is_escaped(self):
        banner = b"220 \x1b[2J\x1b]0;owned\x07 \xff\xfe not utf-8\r\n"

        def script(s, conn):
            conn.sendall(banner)
            s.read_line(conn)
            conn.sendall(b"250 mx.test\r\n")
            s.read_line(conn)
            conn.sendall(b"221 bye\r\n")
        report, _ = self.run_case(script, 0, "ok", "--level", "may")  # JSON parsed fine
        self.assertIn("\ufffd", report["banner"])  # invalid UTF-8 replaced, not fatal
        server = ScriptedServer(script)
        try:
            proc = subprocess.run(
                [OTLS, "probe", f"smtp://127.0.0.1:{server.port}", "--level", "may"],
                capture_output=True, timeout=BOUND_S, env={**os.environ, "NO_COLOR": "1"})
        finally:
            server.close()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn(b"\x1b", proc.stdout)  # no terminal escapes reach the screen
        self.assertIn(b"\\x1b[2J", proc.stdout)

    def test_connection_refused(self):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()  # nothing listens there now
        proc, report, _ = probe(port)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertEqual(report["outcome"], "connect-failure")

    def test_usage_errors(self):
        for args in (["probe", "not a url"], ["probe", "gopher://h.example"],
                     ["probe", "smtp://h.example", "--level", "bogus"], ["probe"]):
            proc = subprocess.run([OTLS, *args], capture_output=True, text=True, timeout=BOUND_S)
            self.assertEqual(proc.returncode, 64, args)
            self.assertTrue(proc.stderr.strip(), args)


if __name__ == "__main__":
    unittest.main()
