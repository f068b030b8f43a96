"""Pure clinical core: scales, staging, prediction models, protocol and safety rules, statistics.

Plain data in, plain data out: no I/O, no clock, no settings, no global random state. Everything
clinical that can be wrong lives here and is tested against clinical.md and published values.
"""
