"""The append-only audit log of security-relevant actions, per partner."""
