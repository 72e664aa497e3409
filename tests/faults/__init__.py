"""Fault and abuse tests: guiagent under killed devices, failing model servers, SIGKILL and fuzzed input.

Each test tries one kind of fault many times and counts the tries that lost anything (a step, a trajectory
line, a result row) or did something not recorded or not allowed; it asserts that count is 0 and reports
its row through the ``figures`` fixture (``conftest.py``), printed as the README's "What guiagent survives"
table at the end of the session.
"""
