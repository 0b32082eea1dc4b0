"""Speed benchmarks; ``python -m benchmarks`` writes results to docs/benchmarks.md."""
