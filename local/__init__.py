"""Tools for running the app on one machine against a local Cognito emulator (ministack)."""
