"""The Save / Reset / reload flow shared by the merchant's draft-and-preview settings pages."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping

from nicegui import ui
from sqlalchemy.orm import Session

from app.services.portal_settings import get_portal_settings
from app.views import PortalSettingsView
from components.settings import SettingsToolbar, conflict_dialog, reset_dialog
from pages.merchant.scaffold import MerchantPage


class SettingsEditor(ABC):
    """A page's last saved portal settings and the merchant's unsaved draft of (some of) them.

    Subclasses say how the draft is written (`write`), how the page starts over from saved settings
    (`restart_from`) and where field errors go (`show_errors`); they build `toolbar`.
    """

    what = "settings"  # as in "The settings were saved elsewhere"
    toolbar: SettingsToolbar

    def __init__(self, page: MerchantPage, saved: PortalSettingsView) -> None:
        self.page = page
        self.saved = saved

    @abstractmethod
    def write(self, session: Session, *, force: bool) -> PortalSettingsView:
        """Save the draft (`force`: even though someone saved since this page loaded)."""

    @abstractmethod
    def restart_from(self, saved: PortalSettingsView) -> None:
        """Forget the draft and show `saved`."""

    @abstractmethod
    def show_errors(self, errors: Mapping[str, str]) -> None: ...

    async def save(self, *, force: bool = False) -> None:
        """Save the draft; when someone saved meanwhile, ask whether to reload theirs or overwrite with ours."""
        await self.page.act(
            lambda session: self.write(session, force=force),
            then=self.restart_from,
            done="Saved",
            on_invalid=self.show_errors,
            on_conflict=lambda: conflict_dialog(
                what=self.what, on_reload=self.reload, on_overwrite=lambda: self.save(force=True)
            ),
            buttons=(self.toolbar.save,),
        )

    def reset(self) -> None:
        reset_dialog(lambda: self.restart_from(self.saved))

    def reload(self) -> None:
        with self.page.context.database.transaction() as session:
            self.restart_from(get_portal_settings(session=session, merchant_id=self.page.merchant_id))
        ui.notify("Reloaded the saved settings.", type="info")
