"""Periodic bulletins (定期通报): frozen figures of a week or a month."""
