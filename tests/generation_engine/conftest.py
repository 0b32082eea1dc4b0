"""Fixtures for the engine tests: the tiny TEST model (built once) and C2PA certs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from generation.engine.backend import ModelSpec, PipelineCache
from generation.engine.tiny_model import build_tiny_pipeline

TEST_THREADS = 1


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "tiny-sd"
    build_tiny_pipeline(path)
    return path


@pytest.fixture(scope="session")
def tiny_spec(tiny_model_dir: Path) -> ModelSpec:
    return ModelSpec(
        id="tiny",
        source=str(tiny_model_dir),
        label="Tiny test model (noise)",
        flags=frozenset({"test_model"}),
    )


@pytest.fixture(scope="session")
def pipeline_cache() -> Iterator[PipelineCache]:
    """One cache for the session, pinned to one torch thread so hashes are stable."""
    yield PipelineCache(num_threads=TEST_THREADS)


@dataclass(frozen=True)
class SigningMaterial:
    cert_chain_pem: bytes
    key_pem: bytes
    root_pem: bytes


@pytest.fixture(scope="session")
def c2pa_signing() -> SigningMaterial:
    """A throwaway CA and an ES256 leaf (CA=false, digitalSignature, EKU emailProtection)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)

    def name(common_name: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Imagegate tests"),
            ]
        )

    def usage(*, signing: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=signing,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=not signing,
            crl_sign=not signing,
            encipher_only=False,
            decipher_only=False,
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(name("Imagegate test CA"))
        .issuer_name(name("Imagegate test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(signing=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_cert = (
        x509.CertificateBuilder()
        .subject_name(name("Imagegate test signer"))
        .issuer_name(ca_cert.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(signing=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return SigningMaterial(
        cert_chain_pem=leaf_cert.public_bytes(pem) + ca_cert.public_bytes(pem),
        key_pem=leaf_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        root_pem=ca_cert.public_bytes(pem),
    )
