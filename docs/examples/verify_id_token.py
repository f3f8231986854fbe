"""How a site checks an ID token from the sign-up app's sign-in: the code exchange after the
hand-off to Managed Login, or the form posted to SIGNUP_TOKEN_CALLBACK_URL by immediate sign-in.

Needs PyJWT with its cryptography extra (`pip install "pyjwt[crypto]"`). The keys come from the
pool's JWKS and are cached by PyJWKClient; every claim that makes the token this pool's ID token
for this app client is checked: the signature, `iss`, `aud`, `token_use` and `exp`.
"""

from __future__ import annotations

from typing import Any

import jwt


def verify_id_token(
    id_token: str, *, region: str, user_pool_id: str, client_id: str, jwks_url: str | None = None
) -> dict[str, Any]:
    """The token's claims, or jwt.InvalidTokenError when it is not a valid ID token for `client_id`.

    `jwks_url` defaults to Cognito's; a test points it at a local emulator's.
    """
    issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
    signing_key = jwt.PyJWKClient(jwks_url or f"{issuer}/.well-known/jwks.json").get_signing_key_from_jwt(id_token)
    claims: dict[str, Any] = jwt.decode(
        id_token,
        signing_key.key,
        algorithms=["RS256"],
        audience=client_id,
        issuer=issuer,
        options={"require": ["exp", "iat", "iss", "aud", "token_use"]},
    )
    if claims["token_use"] != "id":  # noqa: S105 - a claim's value, not a password
        raise jwt.InvalidTokenError("this is not an ID token")
    return claims
