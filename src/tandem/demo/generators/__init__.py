"""Demo generator steps; each module has `run(ctx)` and is listed in pipeline.STEPS."""
