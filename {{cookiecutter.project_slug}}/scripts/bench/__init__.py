"""`make bench`: the service's speed beside a bare FastAPI app's, in one table.

Both run on the same uvicorn of this venv with the same flags (those a deployment uses),
one worker each, and are measured in turn, round after round, so drift falls on both.
"""
