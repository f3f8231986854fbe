"""A throw-away TLS certificate for the Cognito stand-in.

The app reaches Cognito over HTTPS in production; the stand-in serves HTTPS too, so the bench
pays for TLS like the real thing. botocore trusts the certificate through AWS_CA_BUNDLE, which
needs no change to the app.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Certificate:
    cert: Path  # PEM certificate, also the CA bundle the app is told to trust
    key: Path


def self_signed(directory: Path, host: str = "127.0.0.1") -> Certificate:
    """Make a one-day self-signed certificate for `host` (an IP address) with the openssl CLI.

    The address goes in subjectAltName because hostname checks ignore the common name.
    """
    openssl = shutil.which("openssl")
    if openssl is None:
        raise SystemExit("The bench needs the openssl command (Debian package openssl).")
    cert, key = directory / "upstream-cert.pem", directory / "upstream-key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={host}",
            "-addext",
            f"subjectAltName=IP:{host}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return Certificate(cert=cert, key=key)
