"""The layout the README's architecture section describes: no import circle anywhere."""

from __future__ import annotations

import grimp

PACKAGES = ("bot", "handlers", "models", "jobs")


def test_no_module_imports_itself_through_others():
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    circles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                circles.append((importer, *back))
    assert circles == []


def test_the_send_job_is_queued_by_a_name_that_resolves_to_it():
    from rq.utils import import_attribute

    from jobs.drain import drain_notifications
    from jobs.queue import DRAIN_NOTIFICATIONS

    assert import_attribute(DRAIN_NOTIFICATIONS) is drain_notifications
