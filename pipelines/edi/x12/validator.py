"""Our X12 maps, registered and run through pyx12.

The maps are pyx12 XML maps of our own in ``maps/`` (pyx12's map.v2 format: a transaction rooted at ST_LOOP),
indexed by ``maps/maps.xml`` in pyx12's own index format and loaded with `pyx12.map_index.map_index` and
`pyx12.map_if.load_map_file` given that folder as ``map_path`` (pyx12 then also reads our ``dataele.xml`` and
``codes.xml`` from it instead of its HIPAA ones). Validation is pyx12's: its tree walker
(`pyx12.map_walker.walk_tree`) places each segment in the map and reports order, loop, usage and repeat
errors; `segment_if.is_valid_errors` checks each segment's elements (usage, type, length, codes, syntax
rules). We drive both segment by segment ourselves rather than through `pyx12.x12n_document`, because that
reader only accepts ISA12 00401/00501 and picks maps by ISA12, while Amazon's envelopes may say 00305
around a 004010 group: our maps are chosen by GS08 and ST01.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyx12.errors
import pyx12.map_if
import pyx12.map_index
import pyx12.params
import pyx12.segment
from pyx12.error_item import EleError, SegError
from pyx12.map_if import loop_if, segment_if, x12_node
from pyx12.map_walker import walk_tree

from pipelines.edi.x12.reader import Segment, Separators

MAP_PATH = Path(__file__).with_name("maps")
# 997 AK304 segment syntax error code for "segment has data element errors" (the AK4s say which).
SEGMENT_HAS_ELEMENT_ERRORS = "8"


@dataclass(frozen=True)
class Issue:
    """One validation finding, with what a 997 AK3/AK4 needs and a message for humans."""

    segment: Segment  # the segment it was found at (for a missing segment: the one where it was missed)
    set_position: int  # 1-based position of `segment` in its set, ST = 1 (AK302)
    segment_tag: str  # the segment concerned (AK301): differs from segment.tag for a missing segment
    loop_id: str | None  # AK303
    segment_code: str  # AK304
    message: str
    element: int | None = None  # AK401-1
    component: int | None = None  # AK401-2
    data_element: str | None = None  # AK402
    element_code: str | None = None  # AK403
    bad_value: str | None = None  # AK404

    @property
    def position(self) -> str:
        return self.segment.at(self.element)


@dataclass(frozen=True)
class MapEntry:
    """One line of maps.xml."""

    interchange_version: str  # icvn
    version: str  # GS08
    functional_id: str  # GS01
    set_id: str  # ST01
    file_name: str


class TransactionMap:
    """One loaded map: validates the segments of one transaction set (ST … SE)."""

    def __init__(self, entry: MapEntry, root: pyx12.map_if.map_if) -> None:
        self.entry = entry
        self.root = root
        self._st = root.getnodebypath("/ST_LOOP/ST")

    def validate(self, segments: Sequence[Segment], separators: Separators) -> list[Issue]:
        """Every issue pyx12 finds in `segments` (ST first) against this map, in segment order."""
        walker = walk_tree()
        walker.forceWalkCounterToLoopStart("/ST_LOOP", "/ST_LOOP/ST")
        issues: list[Issue] = []
        node = self._st
        for set_position, segment in enumerate(segments, start=1):
            data = pyx12.segment.Segment(
                separators.element.join((segment.tag, *segment.elements)),
                separators.segment,
                separators.element,
                separators.component,
            )
            try:
                if set_position > 1:
                    found, _, _, walk_errors = walker.walk_errors(node, data, set_position, segment.number, None)
                    issues += [self._walk_issue(error, segment, set_position) for error in walk_errors]
                    if found is None:
                        continue  # not placed in the map: reported, and the walk goes on from where it was
                    node = found
                _, element_errors = node.is_valid_errors(data)
            except pyx12.errors.EngineError as error:
                # A map the walker cannot follow is our bug, but it spoils only this set, never its siblings.
                issues.append(
                    Issue(segment, set_position, segment.tag, None, "1", f"the validator failed here: {error}")
                )
                return issues
            issues += [self._element_issue(error, node, segment, set_position) for error in element_errors]
        return issues

    def _walk_issue(self, error: SegError, segment: Segment, set_position: int) -> Issue:
        # A missing segment comes with its map node and a stand-in segment of its tag; a segment the walker
        # could not place comes with itself and the node the walk started from, which says nothing of it.
        concerned = error.seg_data.get_seg_id() if error.seg_data is not None else segment.tag
        node = error.map_node
        loop = _loop_id(node) if node is not None and node.id == concerned else None
        return Issue(segment, set_position, concerned or segment.tag, loop, error.err_cde, error.err_str)

    def _element_issue(self, error: EleError, node: segment_if, segment: Segment, set_position: int) -> Issue:
        component: int | None = None
        element: int | None = None
        data_element: str | None = None
        if error.map_node is not None:
            data_element = error.map_node.data_ele
            if error.map_node.parent is not None and error.map_node.parent.is_composite():
                element, component = error.map_node.parent.seq, error.map_node.seq
            else:
                element = error.map_node.seq
        elif error.refdes is not None and str(error.refdes).isdigit():
            # Segment-level findings (too many elements, syntax rules) name the element by its position.
            element = int(error.refdes)
            child = node.get_child_node_by_ordinal(element) if element <= len(node.children) else None
            data_element = child.data_ele if child is not None else None
        return Issue(
            segment,
            set_position,
            segment.tag,
            _loop_id(node),
            SEGMENT_HAS_ELEMENT_ERRORS,
            error.err_str,
            element=element,
            component=component,
            data_element=data_element,
            element_code=error.err_cde,
            bad_value=error.err_val,
        )


def _loop_id(node: x12_node) -> str | None:
    """The id of the repeating loop (not a wrapper) that holds `node`, for AK303; None at set level."""
    parent = node.parent
    while parent is not None and not parent.is_map_root():
        if isinstance(parent, loop_if) and parent.type != "wrapper" and parent.id != "ST_LOOP":
            return parent.id
        parent = parent.parent
    return None


class MapRegistry:
    """The maps listed in a pyx12 maps.xml, found by GS08 version + ST01 and loaded once each."""

    def __init__(self, map_path: Path = MAP_PATH) -> None:
        self.map_path = Path(map_path)
        index = pyx12.map_index.map_index(str(self.map_path))
        self.entries = tuple(
            MapEntry(
                interchange_version=entry["icvn"] or "",
                version=entry["vriic"] or "",
                functional_id=entry["fic"] or "",
                set_id=entry["abbr"] or "",
                file_name=entry["map_file"] or "",
            )
            for entry in index.maps
        )
        # ParamsBase, not pyx12.params.params(): the latter also reads /etc and ~/.pyx12.conf.xml, and a
        # user's file there must not change what we accept.
        self._params = pyx12.params.ParamsBase()
        self._loaded: dict[str, TransactionMap] = {}
        self._lock = threading.Lock()

    def entry(self, version: str, set_id: str) -> MapEntry | None:
        """The registered map for GS08 `version` and ST01 `set_id`, if any."""
        return next((e for e in self.entries if e.version == version and e.set_id == set_id), None)

    def find(self, version: str, set_id: str) -> TransactionMap | None:
        """The loaded map for GS08 `version` and ST01 `set_id`, or None when we have none."""
        entry = self.entry(version, set_id)
        if entry is None:
            return None
        with self._lock:
            if entry.file_name not in self._loaded:
                root = pyx12.map_if.load_map_file(entry.file_name, self._params, str(self.map_path))
                # A v2 map has no ISA to take its version from; pyx12 uses it to pick the 5010 character set.
                root.icvn = entry.interchange_version
                self._loaded[entry.file_name] = TransactionMap(entry, root)
            return self._loaded[entry.file_name]


@functools.cache
def default_registry() -> MapRegistry:
    """The registry of the maps shipped in ``maps/``."""
    return MapRegistry()
