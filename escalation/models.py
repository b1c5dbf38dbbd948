"""Models of the escalation app (built on csp_portal.accounts tenancy)."""
