"""No phone number in any log: one filter, on every handler, masks them (138****5678) in the
message, its arguments, and a formatted traceback.

`install` puts it on the handlers of the root logger and of every logger known when it is
called (gunicorn's error and access logs, rq's); call it once logging is configured
(`bihuan …` commands, gunicorn.conf.py). SQL parameters are kept out of exception texts by
the engine (`hide_parameters`), stored errors are masked where they are written.
"""

from __future__ import annotations

import logging

from models.core.phones import mask_phones_in

_FORMATTER = logging.Formatter()


class PhoneMask(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_phones_in(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_phones_in(_FORMATTER.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_phones_in(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_phones_in(record.stack_info)
        return True


PHONE_MASK = PhoneMask()
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str) -> None:
    """Log lines to stderr, every handler masking phone numbers."""
    logging.basicConfig(level=level, format=FORMAT)
    install()


def install() -> int:
    """Put the filter on every handler now configured; how many handlers have it."""
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    handlers = {id(h): h for logger in loggers for h in logger.handlers}
    for handler in handlers.values():
        if PHONE_MASK not in handler.filters:
            handler.addFilter(PHONE_MASK)
    return len(handlers)
