"""The case state machine and everything that changes a case.

Functions here take the request's session and flush; they never commit. The
request's unit of work commits once, so a refusal halfway leaves nothing.
"""
