"""The customer portal component: `portal_view(view, actions)` renders it for customers and the settings preview."""

from components.portal.actions import PREVIEW_MESSAGE, PortalActions, PreviewActions
from components.portal.view import PortalScreen, portal_view

__all__ = ["PREVIEW_MESSAGE", "PortalActions", "PortalScreen", "PreviewActions", "portal_view"]
