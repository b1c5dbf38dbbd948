"""Demo data hooks: each app adds its own demo rows for a partner (billing its invoices,
escalation its support contracts) without accounts depending on it. `seed_demo` calls every
registered seeder inside the partner's scope, after the partner's people and customers exist.
A seeder must be idempotent: `seed_demo` runs on every `make run`."""

from collections.abc import Callable

SEEDERS: list[Callable] = []


def register(seeder: Callable) -> Callable:
    """Register `seeder(*, partner, customers)`; usable as a decorator."""
    if seeder not in SEEDERS:
        SEEDERS.append(seeder)
    return seeder
