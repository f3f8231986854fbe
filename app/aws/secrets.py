"""Secrets from AWS Secrets Manager, for operators who keep them out of the environment.

SIGNUP_SECRETS_MANAGER_ID names one secret whose value is JSON holding COGNITO_CLIENT_SECRET
and/or SECRET_KEY. It is read once at start-up with the instance's IAM credentials.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.errors import ConfigError

SECRET_NAMES = ("COGNITO_CLIENT_SECRET", "SECRET_KEY")


def with_stored_secrets(env: Mapping[str, str]) -> Mapping[str, str]:
    """The environment, with the secrets from Secrets Manager added when SIGNUP_SECRETS_MANAGER_ID is set."""
    secret_id = env.get("SIGNUP_SECRETS_MANAGER_ID", "").strip()
    if not secret_id:
        return env
    stored = read_secret(secret_id, env.get("COGNITO_REGION") or None)
    doubled = [name for name in stored if env.get(name, "").strip()]
    if doubled:
        raise ConfigError([f"{name} is set both in the environment and in {secret_id}; keep one" for name in doubled])
    return {**env, **stored}


def read_secret(secret_id: str, region: str | None) -> dict[str, str]:
    client = boto3.session.Session().client(
        "secretsmanager",
        region_name=region,
        config=Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 3}),
    )
    try:
        text = client.get_secret_value(SecretId=secret_id)["SecretString"]
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "error")
        raise ConfigError([f"SIGNUP_SECRETS_MANAGER_ID: cannot read {secret_id} ({code})"]) from err
    except BotoCoreError as err:
        raise ConfigError([f"SIGNUP_SECRETS_MANAGER_ID: cannot read {secret_id} ({type(err).__name__})"]) from err
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not any(isinstance(value.get(name), str) for name in SECRET_NAMES):
        raise ConfigError(
            [f"SIGNUP_SECRETS_MANAGER_ID: {secret_id} must hold JSON with COGNITO_CLIENT_SECRET and/or SECRET_KEY"]
        )
    return {name: value[name] for name in SECRET_NAMES if isinstance(value.get(name), str)}
