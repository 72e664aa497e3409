"""Keeping typed secrets out of every screenshot a run saves or sends: one mechanism for agent and replay.

After a ``<secret:name>`` is typed, the device's UI hierarchy says where it landed (the focused field) and
where it shows (any view whose text holds it); every later frame is painted over there (``SecretMask``)
before anything saves, resizes, compares or sends it. The agent loop and verified replay both go through
this class, so a recording and its replay mask the same areas: a replay compares masked with masked.
A device without a hierarchy (a desktop) cannot say where text lands; the step notes say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from guiagent.actions.errors import DeviceError, DeviceLost
from guiagent.actions.types import Type
from guiagent.envs.base import Env, Observation
from guiagent.envs.hierarchy import UiNode

from .images import SecretMask, mask_boxes
from .trajectory import secret_names

__all__ = ["SecretScreens"]


@dataclass
class SecretScreens:
    """The secret areas of one run on one device.

    Args:
        env: the device (its ``ui_nodes()`` locates the areas).
        secrets: secret values by name, as the run substitutes them.
    """

    env: Env
    secrets: Mapping[str, str]
    mask: SecretMask = field(default_factory=SecretMask)

    @property
    def active(self) -> bool:
        """Whether a secret was typed, so frames need masking."""
        return self.mask.active

    def typed(self, action: Type, notes: list[str]) -> None:
        """After ``action`` was typed: remember where its secrets landed (notes say what could not be done)."""
        names = [n for n in secret_names(action.text) if self.secrets.get(n)]
        if not names:
            return
        placeholders = ", ".join(f"<secret:{n}>" for n in names)
        values = [self.secrets[n] for n in names]
        try:
            nodes = self.env.ui_nodes()
        except DeviceLost:
            raise
        except (DeviceError, ValueError) as exc:  # a hierarchy exists but this dump failed: look again next step
            self.mask.typed(values, [])
            notes.append(
                f"warning: the UI hierarchy could not be read after typing {placeholders} ({exc}): later "
                "screenshots mask only the views whose text shows it"
            )
            return
        if nodes is None:
            notes.append(
                f"warning: {self.env.name} has no UI hierarchy, so guiagent cannot tell where {placeholders} was "
                "typed: later screenshots (saved, sent to the model, in the report) are not masked and may show it"
            )
        elif not self.mask.typed(values, nodes):
            notes.append(
                f"warning: no focused field after typing {placeholders}: only views whose text shows it are masked"
            )

    def masked(self, observation: Observation, notes: list[str]) -> Observation:
        """The observation with every secret area painted over (itself when there is none)."""
        if not self.mask.active:
            return observation
        boxes = self.mask.locate(self._ui_nodes(notes))
        if not boxes:
            return observation
        notes.append(f"{len(boxes)} area(s) holding a typed secret painted over in this step's screenshot")
        return replace(observation, image=mask_boxes(observation.image, boxes))

    def _ui_nodes(self, notes: list[str]) -> list[UiNode] | None:
        """The hierarchy now; None when this dump failed (noted): masking then reuses the last boxes."""
        try:
            return self.env.ui_nodes()
        except DeviceLost:
            raise
        except (DeviceError, ValueError) as exc:
            notes.append(f"the UI hierarchy could not be read ({exc}); the last known secret areas are masked")
            return None
