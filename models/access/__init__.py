"""API keys of the systems that call the JSON API (the gas business system)."""
