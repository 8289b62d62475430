"""Models and domain rules. Import `models.schema` to register every table; the pure modules
(workflow, sla, workcalendar) import nothing from the database layer."""
