"""Models of the tickets app (built on csp_portal.accounts tenancy)."""
