"""Pure computations over Polars frames: no Django and no other Tandem app (import-linter checks)."""
