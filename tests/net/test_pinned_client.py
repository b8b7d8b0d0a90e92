"""The pinned client connects to the address it checked, yet speaks to the host by name:
Host header, TLS SNI and the certificate check all use the name from the URL."""

from __future__ import annotations

import datetime
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pipekit.net import AddressNotAllowed, pinned_client


def self_signed(name: str, folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / f"{name}.pem", folder / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class TLSSite:
    """An HTTPS server on 127.0.0.1 for `name`; records the SNI and Host it was sent."""

    def __init__(self, name: str, folder: Path) -> None:
        self.cert, key = self_signed(name, folder)
        self.server_names: list[str | None] = []
        self.hosts: list[str | None] = []
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        context.sni_callback = lambda _sock, server_name, _ctx: self.server_names.append(
            server_name
        )
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.hosts.append(self.headers.get("Host"))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TLSSite]:
    served = TLSSite("docs.test", tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(served.cert))  # trust only this certificate
    yield served
    served.stop()


def test_tls_to_the_checked_address_uses_the_host_name_for_sni_host_and_certificate(dns, site):
    dns.answer("docs.test", ["127.0.0.1"])
    with pinned_client(allow_private=True) as client:
        response = client.get(f"https://docs.test:{site.port}/")
    assert response.text == "ok"
    assert site.server_names == ["docs.test"] and site.hosts == [f"docs.test:{site.port}"]


def test_a_certificate_for_another_name_is_rejected(dns, site):
    dns.answer("other.test", ["127.0.0.1"])
    with pinned_client(allow_private=True) as client, pytest.raises(httpx.ConnectError) as error:
        client.get(f"https://other.test:{site.port}/")
    assert "certificate" in str(error.value).lower() and site.hosts == []


def test_a_private_answer_is_refused_before_connecting(dns, site):
    dns.answer("docs.test", ["127.0.0.1"])
    with pinned_client() as client, pytest.raises(AddressNotAllowed) as error:
        client.get(f"https://docs.test:{site.port}/")
    assert str(error.value) == "docs.test is a private address (127.0.0.1)"
    assert site.server_names == []
