"""The benchmark's sizes and knobs, from the environment (BENCH_*)."""

from __future__ import annotations

import os
import runpy
from dataclasses import asdict, dataclass, field
from pathlib import Path

# The full size; BENCH_SCALE multiplies it (the small set is 1 % of the large one).
FULL = {
    "partners": 1_000,
    "customers": 50_000,
    "tickets": 1_000_000,
    "invoices": 500_000,
}
SMALL_FRACTION = 0.01


@dataclass(frozen=True)
class Sizes:
    partners: int
    customers: int
    tickets: int
    invoices: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        values = {name: int(round(count * scale)) for name, count in FULL.items()}
        values["partners"] = max(values["partners"], 2)
        values["customers"] = max(values["customers"], values["partners"] * 2)
        return cls(**values)

    def as_dict(self) -> dict:
        return asdict(self) | {"messages": self.tickets * 4, "invoice_lines": self.invoices * 2}


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def production_workers() -> int:
    """The web workers production runs with (gunicorn.conf.py, for this machine)."""
    return int(runpy.run_path(str(Path(__file__).parent.parent / "gunicorn.conf.py"))["workers"])


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


@dataclass(frozen=True)
class Config:
    scale: float = 1.0
    duration: int = 15  # seconds of load per page
    connections: int = 8
    workers: int = field(default_factory=production_workers)  # gunicorn workers, production's
    reuse: bool = False  # keep a database already seeded at the same size
    import_lines: int = 500_000
    pdf_letters: int = 20
    sizes_to_run: tuple[str, ...] = ("small", "large")

    @classmethod
    def from_env(cls) -> Config:
        scale = env_float("BENCH_SCALE", 1.0)
        return cls(
            scale=scale,
            duration=env_int("BENCH_DURATION", 15),
            connections=env_int("BENCH_CONNECTIONS", 8),
            workers=env_int("BENCH_WORKERS", 0) or production_workers(),
            reuse=os.environ.get("BENCH_REUSE", "").lower() in {"1", "true", "yes", "on"},
            import_lines=env_int("BENCH_IMPORT_LINES", int(500_000 * scale)),
            pdf_letters=env_int("BENCH_PDF_LETTERS", 20),
            sizes_to_run=tuple(
                s for s in os.environ.get("BENCH_SIZES", "small,large").split(",") if s
            ),
        )

    def sizes(self, name: str) -> Sizes:
        return Sizes.at(self.scale * (SMALL_FRACTION if name == "small" else 1.0))
