"""Flow content: loading and checking the YAML flows, translations, plain wording and regional services."""
