"""Statistics of the outcome evaluation: natural history, intervals, mixed model, survival, CAFS,
safety rates and power. Pure, like the rest of the domain."""
