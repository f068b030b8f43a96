"""Services: use cases, one transaction each, with permission checks, safety rules and audit."""
