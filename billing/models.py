"""Models of the billing app (built on csp_portal.accounts tenancy)."""
