"""The object every `bihuan` sub-command receives."""

from __future__ import annotations

from bot.settings import load_settings


class Obj:
    """Lazily built settings and runtime, shared by the sub-commands of one invocation."""

    def __init__(self) -> None:
        self._settings = None
        self._runtime = None

    @property
    def settings(self):
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def runtime(self):
        """The runtime of a command-line process (background timeouts)."""
        return self.runtime_for("background")

    def runtime_for(self, process: str):
        if self._runtime is None:
            from bot.runtime import build_runtime

            self._runtime = build_runtime(self.settings, process=process)
        return self._runtime
