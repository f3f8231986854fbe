"""Amazon Cognito: the service the steps call, pools made from a declaration and back, secrets."""
