"""The benchmark harness: `python -m bench.run` measures the app under gunicorn on loopback.

Everything it needs (a Cognito stand-in, the app, a bare Flask app to compare with, the load
generator) runs on this machine, so a figure can be reproduced anywhere with one command.
"""
