"""Answers the sandbox gives instead of a result, with the status codes Sage uses."""


class SandboxError(Exception):
    """A request Sage would refuse; `str(err)` is the message in the response body."""

    status = 400


class BadRequest(SandboxError):
    status = 400


class Unauthorized(SandboxError):
    status = 401


class NotFound(SandboxError):
    status = 404


class MethodNotAllowed(SandboxError):
    status = 405
