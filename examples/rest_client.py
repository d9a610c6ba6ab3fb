"""Vigil over REST from Python, with the standard library only (urllib): create an execution, report its
progress as a worker would, and wait for it to end.

    python3 examples/rest_client.py                 # against http://127.0.0.1:4000 (npm start)
    VIGIL_URL=https://vigil.example VIGIL_API_KEY=vigil_… VIGIL_ENVIRONMENT=live python3 examples/rest_client.py

The endpoints and their shapes are in /docs (and /openapi.json).
"""

import json
import os
import sys
import urllib.error
import urllib.request

BASE = os.environ.get("VIGIL_URL", "http://127.0.0.1:4000").rstrip("/")
API_KEY = os.environ.get("VIGIL_API_KEY")  # not needed while the server runs with auth off
ENVIRONMENT = os.environ.get("VIGIL_ENVIRONMENT")  # test or live; optional for a key with one environment


def call(method, path, body=None):
    """One request; answers the parsed JSON, or exits with Vigil's error body ({detail, error_code, …})."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if API_KEY:
        headers["Authorization"] = f"Bearer {API_KEY}"
    if ENVIRONMENT:
        headers["X-Environment"] = ENVIRONMENT
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        sys.exit(f"{method} {path}: {error.code} {error.read().decode()}")


# 1. Create an execution (a worker does this when its job starts).
execution = call("POST", "/api/v1/executions", {"workflowId": "python-report", "tags": [{"key": "lang", "value": "python"}]})
execution_id = execution["id"]
print("created", execution_id, execution["status"])

# 2. Record events: one batch, in order, all or nothing.
result = call(
    "POST",
    f"/api/v1/executions/{execution_id}/events",
    {
        "events": [
            {"statusChanged": {"to": "RUNNING"}},
            {"progress": {"step": "render", "percentage": 50}},
            {"statusChanged": {"to": "COMPLETED"}},
        ]
    },
)
print("recorded", len(result["events"]), "events; status", result["execution"]["status"])

# 3. Wait for it to end (answers at once when it already has; completed is false if the timeout passes first).
waited = call("POST", f"/api/v1/executions/{execution_id}/wait", {"timeout": 30})
print("waited: completed", waited["completed"], "in", waited["duration_ms"], "ms")
