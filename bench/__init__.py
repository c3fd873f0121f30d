"""The benchmark behind `make bench`: the figures of DESIGN.md §5 as ratios taken in one run."""
