"""Web: the JSON API under /api/v1 and the clinic's server-rendered pages, built by create_app()."""
