"""Fleet tool: see and update every project generated from this template."""
