"""Operability: request ids and structured logs, metrics, security headers and the admin's
sign-in throttle."""
