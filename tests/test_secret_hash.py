"""SecretHash = Base64(HMAC-SHA256(client secret, username + client id)), checked independently."""

import shutil
import subprocess

import pytest

from app.aws.cognito import secret_hash

# Computed with: printf '%s' "$username$client_id" | openssl dgst -sha256 -hmac "$secret" -binary | base64
KNOWN_ANSWERS = [
    ("abc", "ann@example.com", "testclientid123", "SNwb+3q0OO8M3DOQdYcMxaVp9dhRE5LM70Pfymwn3js="),
    ("1example23456789", "username", "1example23456789abcdefghij", "YFp4ymMw9CN2qiDLgYdaX+OYUIVF3xO+nuRY57tgkqQ="),
    ("s3cr3t/+=", "Zoë.Ünïcødé", "7fa1c2b3", "0k1+v2G1cJv3OyhqFY62BSf+HvSi2+/MMTtTGiWaEWI="),
    ("k", "+447700900123", "c", "+6LShKhZAjxZaOb6MNrr1vD7CH0/7MyNhvCtgXHe7IE="),
]


@pytest.mark.parametrize(("secret", "username", "client_id", "expected"), KNOWN_ANSWERS)
def test_secret_hash_matches_known_answers(secret: str, username: str, client_id: str, expected: str) -> None:
    assert secret_hash(secret, username, client_id) == expected


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
@pytest.mark.parametrize(
    ("secret", "username", "client_id"),
    [("x" * 52, "a.person+tag@example.org", "5abc"), ("ünï", "日本語のユーザー", "id"), ("s", "x" * 128, "c" * 26)],
)
def test_secret_hash_agrees_with_openssl(secret: str, username: str, client_id: str) -> None:
    digest = subprocess.run(
        ["openssl", "dgst", "-sha256", "-hmac", secret, "-binary"],
        input=(username + client_id).encode(),
        capture_output=True,
        check=True,
    ).stdout
    encoded = subprocess.run(["base64", "-w0"], input=digest, capture_output=True, check=True).stdout.decode()
    assert secret_hash(secret, username, client_id) == encoded


def test_secret_hash_depends_on_the_exact_username() -> None:
    assert secret_hash("k", "Ann@example.com", "c") != secret_hash("k", "ann@example.com", "c")
