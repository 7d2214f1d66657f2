"""The Save / Reset / reload flow shared by the merchant's draft-and-preview settings pages."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping

from nicegui import ui
from sqlalchemy.orm import Session

from app.context import AppContext
from app.services.portal_settings import get_portal_settings
from app.views import PortalSettingsView, SignedInUser
from components.settings import reset_dialog, save_draft


class SettingsEditor(ABC):
    """A page's last saved portal settings and the merchant's unsaved draft of (some of) them.

    Subclasses say how the draft is written (`write`), how the page starts over from saved settings
    (`restart_from`) and where field errors go (`show_errors`).
    """

    what = "settings"  # as in "The settings were saved elsewhere"

    def __init__(self, context: AppContext, user: SignedInUser, saved: PortalSettingsView) -> None:
        self.context = context
        self.user = user
        self.saved = saved

    @abstractmethod
    def write(self, session: Session, *, force: bool) -> PortalSettingsView:
        """Save the draft (`force`: even though someone saved since this page loaded)."""

    @abstractmethod
    def restart_from(self, saved: PortalSettingsView) -> None:
        """Forget the draft and show `saved`."""

    @abstractmethod
    def show_errors(self, errors: Mapping[str, str]) -> None: ...

    def save(self) -> None:
        def persist(force: bool) -> PortalSettingsView:
            with self.context.database.transaction() as session:
                return self.write(session, force=force)

        save_draft(
            persist=persist,
            on_saved=self.restart_from,
            on_invalid=self.show_errors,
            on_reload=self.reload,
            what=self.what,
        )

    def reset(self) -> None:
        reset_dialog(lambda: self.restart_from(self.saved))

    def reload(self) -> None:
        with self.context.database.transaction() as session:
            self.restart_from(get_portal_settings(session=session, merchant_id=self.user.merchant_id))
        ui.notify("Reloaded the saved settings.", type="info")
