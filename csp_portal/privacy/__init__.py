"""GDPR requests about a customer: export its data, erase its people's personal data."""
