"""The user pool a declaration describes, in Cognito's own terms (CreateUserPool's parameters).

The local run and the tests create their pools from a declaration, so the form and the pool always
agree there. The other way round, a declaration from a pool that exists, is app.aws.pool_declaration.
"""

from __future__ import annotations

from typing import Any

from app.config.kinds import TYPES, AttributeType
from app.config.model import Attribute, Declaration


def schema_attribute(attribute: Attribute) -> dict[str, Any]:
    """One SchemaAttributeType. Cognito cannot make a custom attribute required: the form does."""
    entry: dict[str, Any] = {
        "Name": attribute.name.removeprefix("custom:"),
        "AttributeDataType": TYPES[attribute.type].cognito,
        "Mutable": True,
        "Required": attribute.required and not attribute.is_custom,
    }
    if attribute.type == AttributeType.STRING:
        entry["StringAttributeConstraints"] = {
            "MinLength": str(attribute.min_length or 0),
            "MaxLength": str(attribute.max_length),
        }
    elif attribute.type == AttributeType.NUMBER:
        constraints = {}
        if attribute.min_value is not None:
            constraints["MinValue"] = str(attribute.min_value)
        if attribute.max_value is not None:
            constraints["MaxValue"] = str(attribute.max_value)
        entry["NumberAttributeConstraints"] = constraints
    return entry


def create_user_pool_request(declaration: Declaration, name: str) -> dict[str, Any]:
    """The CreateUserPool parameters for a pool that matches the declaration."""
    policy = declaration.password_policy
    request: dict[str, Any] = {
        "PoolName": name,
        "Policies": {
            "PasswordPolicy": {
                "MinimumLength": policy.minimum_length,
                "RequireUppercase": policy.require_uppercase,
                "RequireLowercase": policy.require_lowercase,
                "RequireNumbers": policy.require_numbers,
                "RequireSymbols": policy.require_symbols,
            }
        },
        "Schema": [
            schema_attribute(a)
            for a in declaration.written_attributes
            if a.is_custom or a.required or a.name == declaration.username
        ],
    }
    if declaration.username != "username":
        request["UsernameAttributes"] = [declaration.username]
    # As AWS advises, and fixed once a pool is made: Ann@ and ann@ are one person.
    request["UsernameConfiguration"] = {"CaseSensitive": False}
    if declaration.code_attribute:
        request["AutoVerifiedAttributes"] = [declaration.code_attribute]
    return request


def create_user_pool_client_request(pool_id: str, name: str) -> dict[str, Any]:
    """An app client with a secret that may pass the person's IP address to Cognito's risk checks, and
    sign in with a password, so a person who sets their own password on a sign-up started elsewhere
    has every other session signed out (app.aws.cognito.CognitoSignup.sign_out_everywhere). The admin
    password flow is for the tests' and the local run's own checks, with the emulator's credentials."""
    return {
        "UserPoolId": pool_id,
        "ClientName": name,
        "GenerateSecret": True,
        "EnablePropagateAdditionalUserContextData": True,
        "ExplicitAuthFlows": [
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ],
    }
