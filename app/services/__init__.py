"""Use cases, one module per area; each takes explicit arguments and returns views from app.views."""
