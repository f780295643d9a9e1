"""The web layer: blueprints, pages, JSON and FHIR routes, request/response schemas and HTTP security."""
