"""The benchmark: `python -m bench.run` (run.py) measures the app under gunicorn on loopback with wrk
(page.lua, signup.lua) against a Cognito stand-in (upstream.py, tls.py), next to bare_app.py; report.py
writes the tables of docs/BENCHMARKS.md and flame.py the profiles' flame graphs.
"""
